-- Users.HideDeletedComments (aurweb 6.2.3): the user's choice to hide deleted comments,
-- default 0. aurweb skipped the step when the column existed; aurweb-migrate's history makes
-- sure it runs exactly once, so there is no guard.
--
-- alembic-revision: e4e49ffce091

ALTER TABLE Users ADD COLUMN HideDeletedComments TINYINT UNSIGNED NOT NULL DEFAULT 0;
