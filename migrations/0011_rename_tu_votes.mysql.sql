-- Rename TU_VoteInfo to VoteInfo, TU_Votes to Votes, and the column ActiveTUs to ActiveUsers
-- (aurweb 6.2.8, "Trusted User" became "Package Maintainer"). Foreign keys follow the
-- renamed tables.
--
-- CHANGE restates the column's whole definition (it also works on MariaDB before 10.5, which
-- lacks RENAME COLUMN). The definition is the one the column has at this version, which is
-- also what aurweb's revision wrote (alter_column with existing_type=INTEGER(unsigned=True)
-- and nothing else): `INT UNSIGNED NULL` without a default, as migration 0004 left it.
--
-- alembic-revision: 7d65d35fae45

RENAME TABLE TU_VoteInfo TO VoteInfo, TU_Votes TO Votes;

ALTER TABLE VoteInfo CHANGE ActiveTUs ActiveUsers INTEGER UNSIGNED NULL;
