-- Users.SSOAccountID: the account's ID at the single sign-on provider (aurweb 6.0.0), nullable
-- and unique. The unique key is unnamed, as in aurweb; MySQL names it `SSOAccountID`.
-- aurweb skipped this step when the column already existed; aurweb-migrate's history makes
-- sure it runs exactly once, so there is no guard.
--
-- alembic-revision: ef39fcd6e1cd

ALTER TABLE Users
	ADD COLUMN SSOAccountID VARCHAR(255) NULL DEFAULT NULL,
	ADD UNIQUE (SSOAccountID);
