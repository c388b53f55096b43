-- TU_VoteInfo vote counts Yes, No, Abstain and ActiveTUs: TINYINT(3) UNSIGNED (at most 255)
-- becomes INTEGER UNSIGNED (aurweb 6.0.0).
--
-- What aurweb's revision leaves, reproduced: it restates only the type (Alembic's
-- alter_column with type_ alone, neither existing_nullable nor existing_server_default),
-- and MySQL's MODIFY replaces the whole column definition, so the four columns lose their
-- NOT NULL and their DEFAULT 0 and end as `INT UNSIGNED NULL` with no default. Every
-- database Alembic upgraded, production's among them, has that (measured on MariaDB 10.11),
-- and this migration does the same, so that such databases are adopted without drift.
-- Migration 0018 makes the columns NOT NULL DEFAULT 0 again, as aurweb's schema.py declares
-- them, on every database alike. aurweb altered the four columns in four statements; one
-- ALTER gives the same columns and rebuilds the table once.
--
-- alembic-revision: be7adae47ac3

ALTER TABLE TU_VoteInfo
	MODIFY Yes INTEGER UNSIGNED NULL,
	MODIFY No INTEGER UNSIGNED NULL,
	MODIFY Abstain INTEGER UNSIGNED NULL,
	MODIFY ActiveTUs INTEGER UNSIGNED NULL;
