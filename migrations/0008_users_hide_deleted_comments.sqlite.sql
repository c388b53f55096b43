-- Users.HideDeletedComments (aurweb 6.2.3): the user's choice to hide deleted comments,
-- default 0.
--
-- alembic-revision: e4e49ffce091

ALTER TABLE Users ADD COLUMN HideDeletedComments TINYINT NOT NULL DEFAULT 0;
