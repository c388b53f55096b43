-- Rename TU_VoteInfo to VoteInfo, TU_Votes to Votes, and the column ActiveTUs to ActiveUsers
-- (aurweb 6.2.8, "Trusted User" became "Package Maintainer"). CHANGE repeats the column's
-- definition unchanged (it also works on MariaDB before 10.5, which lacks RENAME COLUMN).
-- Foreign keys follow the renamed tables.
--
-- alembic-revision: 7d65d35fae45

RENAME TABLE TU_VoteInfo TO VoteInfo, TU_Votes TO Votes;

ALTER TABLE VoteInfo CHANGE ActiveTUs ActiveUsers INTEGER UNSIGNED NOT NULL DEFAULT 0;
