-- Rename TU_VoteInfo to VoteInfo, TU_Votes to Votes, and the column ActiveTUs to ActiveUsers
-- (aurweb 6.2.8, "Trusted User" became "Package Maintainer"). SQLite (3.26 and later)
-- rewrites Votes' foreign key to reference VoteInfo.
--
-- alembic-revision: 7d65d35fae45

ALTER TABLE TU_VoteInfo RENAME TO VoteInfo;

ALTER TABLE TU_Votes RENAME TO Votes;

ALTER TABLE VoteInfo RENAME COLUMN ActiveTUs TO ActiveUsers;
