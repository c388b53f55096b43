-- Users.SSOAccountID: the account's ID at the single sign-on provider (aurweb 6.0.0), nullable
-- and unique. SQLite cannot add a column together with a UNIQUE constraint, so the unique key
-- is a unique index, named `SSOAccountID` like the key MySQL creates.
--
-- alembic-revision: ef39fcd6e1cd

ALTER TABLE Users ADD COLUMN SSOAccountID VARCHAR(255) NULL DEFAULT NULL;

CREATE UNIQUE INDEX SSOAccountID ON Users (SSOAccountID);
