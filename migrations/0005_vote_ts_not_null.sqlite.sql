-- PackageVotes.VoteTS becomes NOT NULL (aurweb 6.0.16); votes without a timestamp get 0
-- (1970-01-01T00:00:00Z) first.
--
-- Difference from aurweb's revision: aurweb set the missing timestamps with the ORM to
-- datetime(1970, 1, 1).timestamp(), a naive datetime read in the local time zone of the
-- machine running Alembic, which is 0 only where that zone is UTC. This migration always
-- writes 0, the value aurweb meant.
--
-- SQLite cannot make a column NOT NULL in place, so PackageVotes is rebuilt the documented
-- way (new table, copy, drop, rename) and its three indexes are created again. Foreign key
-- enforcement is off while this runs; the tool runs PRAGMA foreign_key_check before
-- committing.
--
-- aurweb-migrate: foreign-keys off
-- alembic-revision: d64e5571bc8d

UPDATE PackageVotes SET VoteTS = 0 WHERE VoteTS IS NULL;

CREATE TABLE PackageVotes_new (
	UsersID INTEGER NOT NULL,
	PackageBaseID INTEGER NOT NULL,
	VoteTS BIGINT NOT NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
);

INSERT INTO PackageVotes_new (UsersID, PackageBaseID, VoteTS)
SELECT UsersID, PackageBaseID, VoteTS FROM PackageVotes;

DROP TABLE PackageVotes;

ALTER TABLE PackageVotes_new RENAME TO PackageVotes;

CREATE UNIQUE INDEX VoteUsersIDPackageID ON PackageVotes (UsersID, PackageBaseID);
CREATE INDEX VotesUsersID ON PackageVotes (UsersID);
CREATE INDEX VotesPackageBaseID ON PackageVotes (PackageBaseID);
