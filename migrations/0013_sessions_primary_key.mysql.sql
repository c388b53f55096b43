-- Sessions gets PRIMARY KEY (UsersID) (aurweb 6.3.3): one session per user. Duplicate
-- sessions are deleted first, keeping the greatest SessionID of each user, as aurweb did.
--
-- Then one ALTER TABLE adds the primary key and drops the plain index on UsersID that InnoDB
-- created for the foreign key to Users. The foreign key itself is left alone: the primary
-- key serves it from then on, so it keeps its name (usually Sessions_ibfk_1) and is never
-- missing, not even for a moment. aurweb's revision drops the foreign key and adds it again
-- under the same name in the same ALTER TABLE (MariaDB 10.11 refuses that: error 121,
-- duplicate key on write); where it runs, it leaves what this leaves. The index's name is looked up in
-- INFORMATION_SCHEMA and the statement built with PREPARE/EXECUTE: for the unnamed foreign
-- key MariaDB and MySQL name the index after the column, `UsersID` (checked on MariaDB
-- 10.11), which is the name aurweb drops; looking it up also covers a database whose index
-- is named otherwise, or has none.
--
-- alembic-revision: f2701a76f4a9

DELETE s1 FROM Sessions s1
JOIN Sessions s2 ON s1.UsersID = s2.UsersID AND s1.SessionID < s2.SessionID;

SET @aurweb_index := (
	SELECT s.INDEX_NAME FROM INFORMATION_SCHEMA.STATISTICS s
	WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME = 'Sessions' AND s.NON_UNIQUE = 1
		AND s.COLUMN_NAME = 'UsersID' AND s.SEQ_IN_INDEX = 1
		AND NOT EXISTS (
			SELECT 1 FROM INFORMATION_SCHEMA.STATISTICS t
			WHERE t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = s.TABLE_NAME
				AND t.INDEX_NAME = s.INDEX_NAME AND t.SEQ_IN_INDEX > 1)
	ORDER BY s.INDEX_NAME LIMIT 1
);

SET @aurweb_sql := CONCAT(
	'ALTER TABLE Sessions ADD PRIMARY KEY (UsersID)',
	IF(@aurweb_index IS NULL, '', CONCAT(', DROP KEY `', @aurweb_index, '`'))
);

PREPARE aurweb_stmt FROM @aurweb_sql;

EXECUTE aurweb_stmt;

DEALLOCATE PREPARE aurweb_stmt;
