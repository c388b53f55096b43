-- Index PackageBases by (Popularity, Name) (aurweb 6.2.6), for listings sorted by popularity.
-- aurweb's schema.py does not declare this index, so aurweb's fresh installs lack it;
-- schema/ has it (see schema/README.md).
--
-- alembic-revision: c5a6a9b661a0

CREATE INDEX BasesPopularityName ON PackageBases (Popularity, Name);
