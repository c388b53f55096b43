-- E-mail verification (aurweb 6.4.0): Users.EmailVerified (default 0),
-- EmailVerificationToken and EmailVerificationExpiry (both nullable). Accounts that have a
-- password already count as verified (EmailVerified = 1 where Passwd <> ''), as in aurweb.
--
-- alembic-revision: a3f1c2d4e5b6

ALTER TABLE Users ADD COLUMN EmailVerified TINYINT NOT NULL DEFAULT 0;

ALTER TABLE Users ADD COLUMN EmailVerificationToken CHAR(32) NULL DEFAULT NULL;

ALTER TABLE Users ADD COLUMN EmailVerificationExpiry BIGINT NULL DEFAULT NULL;

UPDATE Users SET EmailVerified = 1 WHERE Passwd <> '';
