-- Request type 4 'adoption' (after aurweb 6.4.2). A row 4 that already exists is kept as it
-- is, as aurweb's MySQL `ON DUPLICATE KEY UPDATE Name = Name` does.
--
-- alembic-revision: b7e4a1c9f0d2

INSERT OR IGNORE INTO RequestTypes (ID, Name) VALUES (4, 'adoption');
