-- Index PackageRequests by ClosedUID (after aurweb 6.4.2). (On MySQL this replaces the index
-- InnoDB created by itself for the foreign key on ClosedUID.)
--
-- alembic-revision: d9b3f27c8e51

CREATE INDEX RequestsClosedUID ON PackageRequests (ClosedUID);
