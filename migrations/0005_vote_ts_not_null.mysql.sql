-- PackageVotes.VoteTS becomes NOT NULL (aurweb 6.0.16); votes without a timestamp get 0
-- (1970-01-01T00:00:00Z) first.
--
-- Difference from aurweb's revision: aurweb set the missing timestamps with the ORM to
-- datetime(1970, 1, 1).timestamp(), a naive datetime read in the local time zone of the
-- machine running Alembic. That is 0 only where that zone is UTC; elsewhere it is a few
-- hours off (negative east of Greenwich, which the UNSIGNED column rejects or clamps
-- depending on sql_mode). This migration always writes 0, the value aurweb meant.
--
-- alembic-revision: d64e5571bc8d

UPDATE PackageVotes SET VoteTS = 0 WHERE VoteTS IS NULL;

ALTER TABLE PackageVotes MODIFY VoteTS BIGINT UNSIGNED NOT NULL;
