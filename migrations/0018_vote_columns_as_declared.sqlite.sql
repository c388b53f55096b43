-- VoteInfo.Yes, No, Abstain and ActiveUsers become INTEGER NOT NULL DEFAULT 0 again, as
-- aurweb's schema.py declares them (0004 made them nullable without a default, as aurweb's
-- revision be7adae47ac3 left them on MySQL/MariaDB); NULL counts become 0 on the way.
-- On MySQL this migration also makes PackageVotes.VoteTS UNSIGNED again; SQLite has no
-- UNSIGNED, so here it only turns a negative VoteTS into 0, as on MySQL. aurweb has no such
-- revision, so this file declares no alembic-revision. See
-- 0018_vote_columns_as_declared.mysql.sql.
--
-- VoteInfo is rebuilt the documented way (new table, copy, drop, rename). Foreign key
-- enforcement is off while this runs (Votes references VoteInfo and dropping the old table
-- must not cascade); the tool runs PRAGMA foreign_key_check before committing. VoteInfo has
-- no named index to re-create.
--
-- aurweb-migrate: foreign-keys off

UPDATE PackageVotes SET VoteTS = 0 WHERE VoteTS < 0;

CREATE TABLE VoteInfo_new (
	ID INTEGER NOT NULL PRIMARY KEY,
	Agenda TEXT NOT NULL,
	User VARCHAR(32) NOT NULL,
	Submitted BIGINT NOT NULL,
	End BIGINT NOT NULL,
	Quorum DECIMAL(2,2) NOT NULL,
	SubmitterID INTEGER NOT NULL,
	Yes INTEGER NOT NULL DEFAULT 0,
	No INTEGER NOT NULL DEFAULT 0,
	Abstain INTEGER NOT NULL DEFAULT 0,
	ActiveUsers INTEGER NOT NULL DEFAULT 0,
	FOREIGN KEY (SubmitterID) REFERENCES Users (ID) ON DELETE CASCADE
);

INSERT INTO VoteInfo_new
	(ID, Agenda, User, Submitted, End, Quorum, SubmitterID, Yes, No, Abstain, ActiveUsers)
SELECT ID, Agenda, User, Submitted, End, Quorum, SubmitterID,
	COALESCE(Yes, 0), COALESCE(No, 0), COALESCE(Abstain, 0), COALESCE(ActiveUsers, 0)
FROM VoteInfo;

DROP TABLE VoteInfo;

ALTER TABLE VoteInfo_new RENAME TO VoteInfo;
