-- aurweb's database schema for SQLite: the current (head) schema, for a fresh install.
-- schema-version: 18
--
-- A database created from this file is the same as one built from migrations/ 0001..0018
-- (same tables, columns in the same order, types, defaults, keys, indexes and foreign keys),
-- and holds the same rows in the four lookup tables. Record it as being at version 18
-- (`aurweb-migrate baseline 18`) so later migrations apply on top. Tables, columns, keys,
-- indexes and foreign keys are those of schema/mysql.sql; where this schema deliberately
-- differs from aurweb's `metadata.create_all`, see schema/README.md.
--
-- Type spelling (the same in every SQLite migration): an auto-increment ID is
-- `ID INTEGER NOT NULL PRIMARY KEY` (the rowid alias); otherwise the MySQL type without
-- UNSIGNED and without integer display widths (TINYINT, INTEGER, BIGINT, INT; TINYINT(1) for
-- booleans; DECIMAL(10,6) and DECIMAL(2,2) keep their precision). aurweb's create_all writes
-- INTEGER for TINYINT and BIGINT and VARCHAR for the DECIMAL columns on SQLite; the type
-- families are the same. Foreign keys and UNIQUE constraints are unnamed, as in aurweb.
-- Columns added by migrations come last in their table, in the order the migrations added
-- them.

CREATE TABLE AccountTypes (
	ID INTEGER NOT NULL PRIMARY KEY,
	AccountType VARCHAR(32) NOT NULL DEFAULT ''
);

CREATE TABLE Users (
	ID INTEGER NOT NULL PRIMARY KEY,
	AccountTypeID TINYINT NOT NULL DEFAULT 1,
	Suspended TINYINT NOT NULL DEFAULT 0,
	Username VARCHAR(32) NOT NULL,
	Email VARCHAR(254) NOT NULL,
	BackupEmail VARCHAR(254) NULL DEFAULT NULL,
	HideEmail TINYINT NOT NULL DEFAULT 0,
	Passwd VARCHAR(255) NOT NULL,
	Salt CHAR(32) NOT NULL DEFAULT '',
	ResetKey CHAR(32) NOT NULL DEFAULT '',
	RealName VARCHAR(64) NOT NULL DEFAULT '',
	LangPreference VARCHAR(6) NOT NULL DEFAULT 'en',
	Timezone VARCHAR(32) NOT NULL DEFAULT 'UTC',
	Homepage TEXT NULL,
	IRCNick VARCHAR(32) NOT NULL DEFAULT '',
	PGPKey VARCHAR(40) NULL DEFAULT NULL,
	LastLogin BIGINT NOT NULL DEFAULT 0,
	LastLoginIPAddress VARCHAR(45) NULL DEFAULT NULL,
	LastSSHLogin BIGINT NOT NULL DEFAULT 0,
	LastSSHLoginIPAddress VARCHAR(45) NULL DEFAULT NULL,
	InactivityTS BIGINT NOT NULL DEFAULT 0,
	RegistrationTS TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CommentNotify TINYINT(1) NOT NULL DEFAULT 1,
	UpdateNotify TINYINT(1) NOT NULL DEFAULT 0,
	OwnershipNotify TINYINT(1) NOT NULL DEFAULT 1,
	SSOAccountID VARCHAR(255) NULL DEFAULT NULL,
	HideDeletedComments TINYINT NOT NULL DEFAULT 0,
	EmailVerified TINYINT NOT NULL DEFAULT 0,
	EmailVerificationToken CHAR(32) NULL DEFAULT NULL,
	EmailVerificationExpiry BIGINT NULL DEFAULT NULL,
	NormalizedEmail VARCHAR(320) NULL DEFAULT NULL,
	UNIQUE (Username),
	UNIQUE (Email),
	FOREIGN KEY (AccountTypeID) REFERENCES AccountTypes (ID) ON DELETE NO ACTION
);

CREATE INDEX UsersAccountTypeID ON Users (AccountTypeID);
-- The unique key on SSOAccountID is an index (named as MySQL names the key), as migration
-- 0002 creates it: SQLite cannot add a column with a UNIQUE constraint.
CREATE UNIQUE INDEX SSOAccountID ON Users (SSOAccountID);
CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);

CREATE TABLE SSHPubKeys (
	UserID INTEGER NOT NULL,
	Fingerprint VARCHAR(44) NOT NULL,
	PubKey VARCHAR(4096) NOT NULL,
	PRIMARY KEY (Fingerprint),
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
);

-- UsersID is INT, not INTEGER: a single-column INTEGER PRIMARY KEY would be an alias of the
-- rowid, which SQLite fills in by itself (an auto-increment column).
CREATE TABLE Sessions (
	UsersID INT NOT NULL,
	SessionID CHAR(32) NOT NULL,
	LastUpdateTS BIGINT NOT NULL,
	PRIMARY KEY (UsersID),
	UNIQUE (SessionID),
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE
);

CREATE TABLE PackageBases (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(255) NOT NULL,
	NumVotes INTEGER NOT NULL DEFAULT 0,
	Popularity DECIMAL(10,6) NOT NULL DEFAULT 0,
	OutOfDateTS BIGINT NULL DEFAULT NULL,
	FlaggerComment TEXT NOT NULL,
	SubmittedTS BIGINT NOT NULL,
	ModifiedTS BIGINT NOT NULL,
	FlaggerUID INTEGER NULL DEFAULT NULL,
	SubmitterUID INTEGER NULL DEFAULT NULL,
	MaintainerUID INTEGER NULL DEFAULT NULL,
	PackagerUID INTEGER NULL DEFAULT NULL,
	PopularityUpdated TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:01',
	UNIQUE (Name),
	FOREIGN KEY (FlaggerUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (SubmitterUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (MaintainerUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (PackagerUID) REFERENCES Users (ID) ON DELETE SET NULL
);

CREATE INDEX BasesNumVotes ON PackageBases (NumVotes);
CREATE INDEX BasesSubmitterUID ON PackageBases (SubmitterUID);
CREATE INDEX BasesMaintainerUID ON PackageBases (MaintainerUID);
CREATE INDEX BasesPackagerUID ON PackageBases (PackagerUID);
CREATE INDEX BasesPopularityName ON PackageBases (Popularity, Name);
CREATE INDEX BasesModifiedTS ON PackageBases (ModifiedTS);
CREATE INDEX BasesSubmittedTS ON PackageBases (SubmittedTS);

CREATE TABLE PackageKeywords (
	PackageBaseID INTEGER NOT NULL,
	Keyword VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (PackageBaseID, Keyword),
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
);

CREATE INDEX KeywordsPackageBaseID ON PackageKeywords (PackageBaseID);

CREATE TABLE Packages (
	ID INTEGER NOT NULL PRIMARY KEY,
	PackageBaseID INTEGER NOT NULL,
	Name VARCHAR(255) NOT NULL,
	Version VARCHAR(255) NOT NULL DEFAULT '',
	Description VARCHAR(255) NULL DEFAULT NULL,
	URL VARCHAR(8000) NULL DEFAULT NULL,
	UNIQUE (Name),
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
);

CREATE TABLE Licenses (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(255) NOT NULL,
	UNIQUE (Name)
);

CREATE TABLE PackageLicenses (
	PackageID INTEGER NOT NULL,
	LicenseID INTEGER NOT NULL,
	PRIMARY KEY (PackageID, LicenseID),
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (LicenseID) REFERENCES Licenses (ID) ON DELETE CASCADE
);

CREATE TABLE `Groups` (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(255) NOT NULL,
	UNIQUE (Name)
);

CREATE TABLE PackageGroups (
	PackageID INTEGER NOT NULL,
	GroupID INTEGER NOT NULL,
	PRIMARY KEY (PackageID, GroupID),
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (GroupID) REFERENCES `Groups` (ID) ON DELETE CASCADE
);

CREATE TABLE DependencyTypes (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(32) NOT NULL DEFAULT ''
);

CREATE TABLE PackageDepends (
	PackageID INTEGER NOT NULL,
	DepTypeID TINYINT NOT NULL,
	DepName VARCHAR(255) NOT NULL,
	DepDesc VARCHAR(255) NULL DEFAULT NULL,
	DepCondition VARCHAR(255) NULL DEFAULT NULL,
	DepArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (DepTypeID) REFERENCES DependencyTypes (ID) ON DELETE NO ACTION
);

CREATE INDEX DependsPackageID ON PackageDepends (PackageID);
CREATE INDEX DependsDepName ON PackageDepends (DepName);

CREATE TABLE RelationTypes (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(32) NOT NULL DEFAULT ''
);

CREATE TABLE PackageRelations (
	PackageID INTEGER NOT NULL,
	RelTypeID TINYINT NOT NULL,
	RelName VARCHAR(255) NOT NULL,
	RelCondition VARCHAR(255) NULL DEFAULT NULL,
	RelArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (RelTypeID) REFERENCES RelationTypes (ID) ON DELETE NO ACTION
);

CREATE INDEX RelationsPackageID ON PackageRelations (PackageID);
CREATE INDEX RelationsRelName ON PackageRelations (RelName);

CREATE TABLE PackageSources (
	PackageID INTEGER NOT NULL,
	Source VARCHAR(8000) NOT NULL DEFAULT '/dev/null',
	SourceArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE
);

CREATE INDEX SourcesPackageID ON PackageSources (PackageID);

CREATE TABLE PackageVotes (
	UsersID INTEGER NOT NULL,
	PackageBaseID INTEGER NOT NULL,
	VoteTS BIGINT NOT NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
);

CREATE UNIQUE INDEX VoteUsersIDPackageID ON PackageVotes (UsersID, PackageBaseID);
CREATE INDEX VotesUsersID ON PackageVotes (UsersID);
CREATE INDEX VotesPackageBaseID ON PackageVotes (PackageBaseID);

CREATE TABLE PackageComments (
	ID INTEGER NOT NULL PRIMARY KEY,
	PackageBaseID INTEGER NOT NULL,
	UsersID INTEGER NULL DEFAULT NULL,
	Comments TEXT NOT NULL,
	RenderedComment TEXT NOT NULL,
	CommentTS BIGINT NOT NULL DEFAULT 0,
	EditedTS BIGINT NULL DEFAULT NULL,
	EditedUsersID INTEGER NULL DEFAULT NULL,
	DelTS BIGINT NULL DEFAULT NULL,
	DelUsersID INTEGER NULL DEFAULT NULL,
	PinnedTS BIGINT NOT NULL DEFAULT 0,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (EditedUsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (DelUsersID) REFERENCES Users (ID) ON DELETE CASCADE
);

CREATE INDEX CommentsUsersID ON PackageComments (UsersID);
CREATE INDEX CommentsPackageBaseID ON PackageComments (PackageBaseID);

CREATE TABLE PackageComaintainers (
	UsersID INTEGER NOT NULL,
	PackageBaseID INTEGER NOT NULL,
	Priority INTEGER NOT NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
);

CREATE INDEX ComaintainersUsersID ON PackageComaintainers (UsersID);
CREATE INDEX ComaintainersPackageBaseID ON PackageComaintainers (PackageBaseID);

CREATE TABLE PackageNotifications (
	PackageBaseID INTEGER NOT NULL,
	UserID INTEGER NOT NULL,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE,
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
);

CREATE UNIQUE INDEX NotifyUserIDPkgID ON PackageNotifications (UserID, PackageBaseID);

CREATE TABLE PackageBlacklist (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(64) NOT NULL,
	UNIQUE (Name)
);

CREATE TABLE OfficialProviders (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(64) NOT NULL,
	Repo VARCHAR(64) NOT NULL,
	Provides VARCHAR(64) NOT NULL
);

CREATE UNIQUE INDEX ProviderNameProvides ON OfficialProviders (Name, Provides);

CREATE TABLE RequestTypes (
	ID INTEGER NOT NULL PRIMARY KEY,
	Name VARCHAR(32) NOT NULL DEFAULT ''
);

CREATE TABLE PackageRequests (
	ID INTEGER NOT NULL PRIMARY KEY,
	ReqTypeID TINYINT NOT NULL,
	PackageBaseID INTEGER NULL DEFAULT NULL,
	PackageBaseName VARCHAR(255) NOT NULL,
	MergeBaseName VARCHAR(255) NULL DEFAULT NULL,
	UsersID INTEGER NULL DEFAULT NULL,
	Comments TEXT NOT NULL,
	ClosureComment TEXT NOT NULL,
	RequestTS BIGINT NOT NULL DEFAULT 0,
	ClosedTS BIGINT NULL DEFAULT NULL,
	ClosedUID INTEGER NULL DEFAULT NULL,
	Status TINYINT NOT NULL DEFAULT 0,
	FOREIGN KEY (ReqTypeID) REFERENCES RequestTypes (ID) ON DELETE NO ACTION,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE SET NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (ClosedUID) REFERENCES Users (ID) ON DELETE SET NULL
);

CREATE INDEX RequestsUsersID ON PackageRequests (UsersID);
CREATE INDEX RequestsPackageBaseID ON PackageRequests (PackageBaseID);
CREATE INDEX RequestsClosedUID ON PackageRequests (ClosedUID);

CREATE TABLE VoteInfo (
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

CREATE TABLE Votes (
	VoteID INTEGER NOT NULL,
	UserID INTEGER NOT NULL,
	FOREIGN KEY (VoteID) REFERENCES VoteInfo (ID) ON DELETE CASCADE,
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
);

CREATE TABLE Bans (
	IPAddress VARCHAR(45) NOT NULL,
	BanTS TIMESTAMP NOT NULL,
	PRIMARY KEY (IPAddress)
);

CREATE TABLE Terms (
	ID INTEGER NOT NULL PRIMARY KEY,
	Description VARCHAR(255) NOT NULL,
	URL VARCHAR(8000) NOT NULL,
	Revision INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE AcceptedTerms (
	UsersID INTEGER NOT NULL,
	TermsID INTEGER NOT NULL,
	Revision INTEGER NOT NULL DEFAULT 0,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (TermsID) REFERENCES Terms (ID) ON DELETE CASCADE
);

-- No separate UNIQUE (IP): the primary key already makes IP unique (aurweb's schema.py adds
-- a redundant one; no migration does).
CREATE TABLE ApiRateLimit (
	IP VARCHAR(45) NOT NULL,
	Requests INT NOT NULL,
	WindowStart BIGINT NOT NULL,
	PRIMARY KEY (IP)
);

CREATE INDEX ApiRateLimitWindowStart ON ApiRateLimit (WindowStart);

INSERT INTO AccountTypes (ID, AccountType) VALUES
	(1, 'User'),
	(2, 'Package Maintainer'),
	(3, 'Developer'),
	(4, 'Package Maintainer & Developer');

INSERT INTO DependencyTypes (ID, Name) VALUES
	(1, 'depends'),
	(2, 'makedepends'),
	(3, 'checkdepends'),
	(4, 'optdepends');

INSERT INTO RelationTypes (ID, Name) VALUES
	(1, 'conflicts'),
	(2, 'provides'),
	(3, 'replaces');

INSERT INTO RequestTypes (ID, Name) VALUES
	(1, 'deletion'),
	(2, 'orphan'),
	(3, 'merge'),
	(4, 'adoption');
