-- Sessions gets PRIMARY KEY (UsersID) (aurweb 6.3.3): one session per user. Duplicate
-- sessions are deleted first, keeping the greatest SessionID of each user, as aurweb did
-- (aurweb's revision is MySQL-only; this is the same rule).
--
-- SQLite cannot add a primary key to a table, so Sessions is rebuilt the documented way
-- (new table, copy, drop, rename); it has no named index to re-create. Foreign key
-- enforcement is off while this runs; the tool runs PRAGMA foreign_key_check before
-- committing.
--
-- UsersID is declared INT, not INTEGER: a single-column INTEGER PRIMARY KEY would make it an
-- alias of the rowid, which SQLite fills in by itself when a NULL is inserted (an
-- auto-increment column, which a reference to Users must not be).
--
-- aurweb-migrate: foreign-keys off
-- alembic-revision: f2701a76f4a9

DELETE FROM Sessions
WHERE EXISTS (
	SELECT 1 FROM Sessions s2
	WHERE s2.UsersID = Sessions.UsersID AND s2.SessionID > Sessions.SessionID
);

CREATE TABLE Sessions_new (
	UsersID INT NOT NULL,
	SessionID CHAR(32) NOT NULL,
	LastUpdateTS BIGINT NOT NULL,
	PRIMARY KEY (UsersID),
	UNIQUE (SessionID),
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE
);

INSERT INTO Sessions_new (UsersID, SessionID, LastUpdateTS)
SELECT UsersID, SessionID, LastUpdateTS FROM Sessions;

DROP TABLE Sessions;

ALTER TABLE Sessions_new RENAME TO Sessions;
