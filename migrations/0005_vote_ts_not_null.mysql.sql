-- PackageVotes.VoteTS becomes NOT NULL (aurweb 6.0.16); votes without a timestamp get 0
-- (1970-01-01T00:00:00Z) first.
--
-- What aurweb's revision leaves, reproduced: its alter_column restates the type as plain
-- BIGINT (existing_type=BIGINT(), nullable=False), and MySQL's MODIFY replaces the whole
-- column definition, so VoteTS ends as a **signed** `BIGINT NOT NULL`: the UNSIGNED is lost.
-- Every database Alembic upgraded, production's among them, has that (measured on MariaDB
-- 10.11); this migration does the same, so that such databases are adopted without drift.
-- Migration 0018 makes the column BIGINT UNSIGNED again on every database alike.
--
-- Difference from aurweb's revision: aurweb set the missing timestamps with the ORM to
-- datetime(1970, 1, 1).timestamp(), a naive datetime read in the local time zone of the
-- machine running Alembic. That is 0 only where that zone is UTC; elsewhere it is a few
-- hours off (negative east of Greenwich, which the now signed column keeps). This migration
-- always writes 0, the value aurweb meant.
--
-- alembic-revision: d64e5571bc8d

UPDATE PackageVotes SET VoteTS = 0 WHERE VoteTS IS NULL;

ALTER TABLE PackageVotes MODIFY VoteTS BIGINT NOT NULL;
