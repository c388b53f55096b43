-- TU_VoteInfo vote counts Yes, No, Abstain and ActiveTUs: TINYINT becomes INTEGER
-- (aurweb 6.0.0). As on MySQL/MariaDB, where aurweb's revision restated only the type and so
-- left the four columns nullable without a default (see 0004_vote_counts_integer.mysql.sql),
-- they become nullable here too, so that both dialects have the same schema at every
-- version; migration 0018 makes them NOT NULL DEFAULT 0 again.
--
-- SQLite cannot change a column's type, so the table is rebuilt the documented way: create
-- the new table, copy the rows, drop the old table, rename the new one. Foreign key
-- enforcement is off while this runs (TU_Votes references TU_VoteInfo and dropping the old
-- table must not cascade); the tool runs PRAGMA foreign_key_check before committing.
-- TU_VoteInfo has no named index to re-create.
--
-- aurweb-migrate: foreign-keys off
-- alembic-revision: be7adae47ac3

CREATE TABLE TU_VoteInfo_new (
	ID INTEGER NOT NULL PRIMARY KEY,
	Agenda TEXT NOT NULL,
	User VARCHAR(32) NOT NULL,
	Submitted BIGINT NOT NULL,
	End BIGINT NOT NULL,
	Quorum DECIMAL(2,2) NOT NULL,
	SubmitterID INTEGER NOT NULL,
	Yes INTEGER,
	No INTEGER,
	Abstain INTEGER,
	ActiveTUs INTEGER,
	FOREIGN KEY (SubmitterID) REFERENCES Users (ID) ON DELETE CASCADE
);

INSERT INTO TU_VoteInfo_new
	(ID, Agenda, User, Submitted, End, Quorum, SubmitterID, Yes, No, Abstain, ActiveTUs)
SELECT ID, Agenda, User, Submitted, End, Quorum, SubmitterID, Yes, No, Abstain, ActiveTUs
FROM TU_VoteInfo;

DROP TABLE TU_VoteInfo;

ALTER TABLE TU_VoteInfo_new RENAME TO TU_VoteInfo;
