-- aurweb's database schema for MySQL/MariaDB: the current (head) schema, for a fresh install.
-- schema-version: 18
--
-- A database created from this file is the same as one built from every migration in
-- migrations/ up to the version on the schema-version line above (same tables, columns in
-- the same order, types, defaults, keys, indexes, foreign keys, engine and collations), and
-- holds the same rows in the four lookup tables. `upgrade` on an empty database builds it
-- and records that version; by hand, record it with `aurweb-migrate baseline <that version>`
-- so later migrations apply on top.
-- Where this schema deliberately differs from aurweb's `metadata.create_all`, see
-- schema/README.md.
--
-- Conventions: every table is InnoDB with an explicit character set. The 23 tables with
-- text columns are utf8mb4 (utf8mb4_bin for SSHPubKeys, Sessions and OfficialProviders,
-- utf8mb4_general_ci otherwise), as migration 0003 leaves them. The 7 tables with only
-- integer columns keep utf8mb3, exactly as an upgraded database has them (0003, like aurweb,
-- does not convert them); their character set only matters for a text column added later,
-- which must then convert the table in its migration (and here). Foreign keys and UNIQUE
-- constraints are unnamed, as in aurweb. Columns added by migrations come last in their
-- table, in the order the migrations added them.

-- PackageBases.PopularityUpdated's default is a TIMESTAMP literal, read in the session's
-- time zone; in a zone east of UTC it would fall before the epoch and be rejected.
SET time_zone = '+00:00';

CREATE TABLE AccountTypes (
	ID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
	AccountType VARCHAR(32) NOT NULL DEFAULT '',
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- ROW_FORMAT=DYNAMIC: the unique key on NormalizedEmail is 1280 bytes, more than COMPACT
-- rows allow (migration 0016 makes the same change).
CREATE TABLE Users (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	AccountTypeID TINYINT UNSIGNED NOT NULL DEFAULT 1,
	Suspended TINYINT UNSIGNED NOT NULL DEFAULT 0,
	Username VARCHAR(32) NOT NULL,
	Email VARCHAR(254) NOT NULL,
	BackupEmail VARCHAR(254) NULL DEFAULT NULL,
	HideEmail TINYINT UNSIGNED NOT NULL DEFAULT 0,
	Passwd VARCHAR(255) NOT NULL,
	Salt CHAR(32) NOT NULL DEFAULT '',
	ResetKey CHAR(32) NOT NULL DEFAULT '',
	RealName VARCHAR(64) NOT NULL DEFAULT '',
	LangPreference VARCHAR(6) NOT NULL DEFAULT 'en',
	Timezone VARCHAR(32) NOT NULL DEFAULT 'UTC',
	Homepage MEDIUMTEXT NULL,
	IRCNick VARCHAR(32) NOT NULL DEFAULT '',
	PGPKey VARCHAR(40) NULL DEFAULT NULL,
	LastLogin BIGINT UNSIGNED NOT NULL DEFAULT 0,
	LastLoginIPAddress VARCHAR(45) NULL DEFAULT NULL,
	LastSSHLogin BIGINT UNSIGNED NOT NULL DEFAULT 0,
	LastSSHLoginIPAddress VARCHAR(45) NULL DEFAULT NULL,
	InactivityTS BIGINT UNSIGNED NOT NULL DEFAULT 0,
	RegistrationTS TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CommentNotify TINYINT(1) NOT NULL DEFAULT 1,
	UpdateNotify TINYINT(1) NOT NULL DEFAULT 0,
	OwnershipNotify TINYINT(1) NOT NULL DEFAULT 1,
	SSOAccountID VARCHAR(255) NULL DEFAULT NULL,
	HideDeletedComments TINYINT UNSIGNED NOT NULL DEFAULT 0,
	EmailVerified TINYINT UNSIGNED NOT NULL DEFAULT 0,
	EmailVerificationToken CHAR(32) NULL DEFAULT NULL,
	EmailVerificationExpiry BIGINT UNSIGNED NULL DEFAULT NULL,
	NormalizedEmail VARCHAR(320) NULL DEFAULT NULL,
	PRIMARY KEY (ID),
	UNIQUE (Username),
	UNIQUE (Email),
	UNIQUE (SSOAccountID),
	FOREIGN KEY (AccountTypeID) REFERENCES AccountTypes (ID) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC;

CREATE INDEX UsersAccountTypeID ON Users (AccountTypeID);
CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);

CREATE TABLE SSHPubKeys (
	UserID INTEGER UNSIGNED NOT NULL,
	Fingerprint VARCHAR(44) NOT NULL,
	PubKey VARCHAR(4096) NOT NULL,
	PRIMARY KEY (Fingerprint),
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE Sessions (
	UsersID INTEGER UNSIGNED NOT NULL,
	SessionID CHAR(32) NOT NULL,
	LastUpdateTS BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (UsersID),
	UNIQUE (SessionID),
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE PackageBases (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(255) NOT NULL,
	NumVotes INTEGER UNSIGNED NOT NULL DEFAULT 0,
	Popularity DECIMAL(10,6) UNSIGNED NOT NULL DEFAULT 0,
	OutOfDateTS BIGINT UNSIGNED NULL DEFAULT NULL,
	FlaggerComment MEDIUMTEXT NOT NULL,
	SubmittedTS BIGINT UNSIGNED NOT NULL,
	ModifiedTS BIGINT UNSIGNED NOT NULL,
	FlaggerUID INTEGER UNSIGNED NULL DEFAULT NULL,
	SubmitterUID INTEGER UNSIGNED NULL DEFAULT NULL,
	MaintainerUID INTEGER UNSIGNED NULL DEFAULT NULL,
	PackagerUID INTEGER UNSIGNED NULL DEFAULT NULL,
	PopularityUpdated TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:01',
	PRIMARY KEY (ID),
	UNIQUE (Name),
	FOREIGN KEY (FlaggerUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (SubmitterUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (MaintainerUID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (PackagerUID) REFERENCES Users (ID) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX BasesNumVotes ON PackageBases (NumVotes);
CREATE INDEX BasesSubmitterUID ON PackageBases (SubmitterUID);
CREATE INDEX BasesMaintainerUID ON PackageBases (MaintainerUID);
CREATE INDEX BasesPackagerUID ON PackageBases (PackagerUID);
CREATE INDEX BasesPopularityName ON PackageBases (Popularity, Name);
CREATE INDEX BasesModifiedTS ON PackageBases (ModifiedTS);
CREATE INDEX BasesSubmittedTS ON PackageBases (SubmittedTS);

CREATE TABLE PackageKeywords (
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	Keyword VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (PackageBaseID, Keyword),
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX KeywordsPackageBaseID ON PackageKeywords (PackageBaseID);

CREATE TABLE Packages (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	Name VARCHAR(255) NOT NULL,
	Version VARCHAR(255) NOT NULL DEFAULT '',
	Description VARCHAR(255) NULL DEFAULT NULL,
	URL VARCHAR(8000) NULL DEFAULT NULL,
	PRIMARY KEY (ID),
	UNIQUE (Name),
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE Licenses (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(255) NOT NULL,
	PRIMARY KEY (ID),
	UNIQUE (Name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE PackageLicenses (
	PackageID INTEGER UNSIGNED NOT NULL,
	LicenseID INTEGER UNSIGNED NOT NULL,
	PRIMARY KEY (PackageID, LicenseID),
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (LicenseID) REFERENCES Licenses (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `Groups` (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(255) NOT NULL,
	PRIMARY KEY (ID),
	UNIQUE (Name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE PackageGroups (
	PackageID INTEGER UNSIGNED NOT NULL,
	GroupID INTEGER UNSIGNED NOT NULL,
	PRIMARY KEY (PackageID, GroupID),
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (GroupID) REFERENCES `Groups` (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE DependencyTypes (
	ID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(32) NOT NULL DEFAULT '',
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE PackageDepends (
	PackageID INTEGER UNSIGNED NOT NULL,
	DepTypeID TINYINT UNSIGNED NOT NULL,
	DepName VARCHAR(255) NOT NULL,
	DepDesc VARCHAR(255) NULL DEFAULT NULL,
	DepCondition VARCHAR(255) NULL DEFAULT NULL,
	DepArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (DepTypeID) REFERENCES DependencyTypes (ID) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX DependsPackageID ON PackageDepends (PackageID);
CREATE INDEX DependsDepName ON PackageDepends (DepName);

CREATE TABLE RelationTypes (
	ID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(32) NOT NULL DEFAULT '',
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE PackageRelations (
	PackageID INTEGER UNSIGNED NOT NULL,
	RelTypeID TINYINT UNSIGNED NOT NULL,
	RelName VARCHAR(255) NOT NULL,
	RelCondition VARCHAR(255) NULL DEFAULT NULL,
	RelArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE,
	FOREIGN KEY (RelTypeID) REFERENCES RelationTypes (ID) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX RelationsPackageID ON PackageRelations (PackageID);
CREATE INDEX RelationsRelName ON PackageRelations (RelName);

CREATE TABLE PackageSources (
	PackageID INTEGER UNSIGNED NOT NULL,
	Source VARCHAR(8000) NOT NULL DEFAULT '/dev/null',
	SourceArch VARCHAR(255) NULL DEFAULT NULL,
	FOREIGN KEY (PackageID) REFERENCES Packages (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX SourcesPackageID ON PackageSources (PackageID);

CREATE TABLE PackageVotes (
	UsersID INTEGER UNSIGNED NOT NULL,
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	VoteTS BIGINT UNSIGNED NOT NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE UNIQUE INDEX VoteUsersIDPackageID ON PackageVotes (UsersID, PackageBaseID);
CREATE INDEX VotesUsersID ON PackageVotes (UsersID);
CREATE INDEX VotesPackageBaseID ON PackageVotes (PackageBaseID);

CREATE TABLE PackageComments (
	ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	UsersID INTEGER UNSIGNED NULL DEFAULT NULL,
	Comments MEDIUMTEXT NOT NULL,
	RenderedComment MEDIUMTEXT NOT NULL,
	CommentTS BIGINT UNSIGNED NOT NULL DEFAULT 0,
	EditedTS BIGINT UNSIGNED NULL DEFAULT NULL,
	EditedUsersID INTEGER UNSIGNED NULL DEFAULT NULL,
	DelTS BIGINT UNSIGNED NULL DEFAULT NULL,
	DelUsersID INTEGER UNSIGNED NULL DEFAULT NULL,
	PinnedTS BIGINT UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (ID),
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (EditedUsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (DelUsersID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX CommentsUsersID ON PackageComments (UsersID);
CREATE INDEX CommentsPackageBaseID ON PackageComments (PackageBaseID);

CREATE TABLE PackageComaintainers (
	UsersID INTEGER UNSIGNED NOT NULL,
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	Priority INTEGER UNSIGNED NOT NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE INDEX ComaintainersUsersID ON PackageComaintainers (UsersID);
CREATE INDEX ComaintainersPackageBaseID ON PackageComaintainers (PackageBaseID);

CREATE TABLE PackageNotifications (
	PackageBaseID INTEGER UNSIGNED NOT NULL,
	UserID INTEGER UNSIGNED NOT NULL,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE CASCADE,
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE UNIQUE INDEX NotifyUserIDPkgID ON PackageNotifications (UserID, PackageBaseID);

CREATE TABLE PackageBlacklist (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(64) NOT NULL,
	PRIMARY KEY (ID),
	UNIQUE (Name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE OfficialProviders (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(64) NOT NULL,
	Repo VARCHAR(64) NOT NULL,
	Provides VARCHAR(64) NOT NULL,
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE UNIQUE INDEX ProviderNameProvides ON OfficialProviders (Name, Provides);

CREATE TABLE RequestTypes (
	ID TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
	Name VARCHAR(32) NOT NULL DEFAULT '',
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE PackageRequests (
	ID BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	ReqTypeID TINYINT UNSIGNED NOT NULL,
	PackageBaseID INTEGER UNSIGNED NULL DEFAULT NULL,
	PackageBaseName VARCHAR(255) NOT NULL,
	MergeBaseName VARCHAR(255) NULL DEFAULT NULL,
	UsersID INTEGER UNSIGNED NULL DEFAULT NULL,
	Comments MEDIUMTEXT NOT NULL,
	ClosureComment MEDIUMTEXT NOT NULL,
	RequestTS BIGINT UNSIGNED NOT NULL DEFAULT 0,
	ClosedTS BIGINT UNSIGNED NULL DEFAULT NULL,
	ClosedUID INTEGER UNSIGNED NULL DEFAULT NULL,
	Status TINYINT UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (ID),
	FOREIGN KEY (ReqTypeID) REFERENCES RequestTypes (ID) ON DELETE NO ACTION,
	FOREIGN KEY (PackageBaseID) REFERENCES PackageBases (ID) ON DELETE SET NULL,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE SET NULL,
	FOREIGN KEY (ClosedUID) REFERENCES Users (ID) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE INDEX RequestsUsersID ON PackageRequests (UsersID);
CREATE INDEX RequestsPackageBaseID ON PackageRequests (PackageBaseID);
CREATE INDEX RequestsClosedUID ON PackageRequests (ClosedUID);

CREATE TABLE VoteInfo (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Agenda MEDIUMTEXT NOT NULL,
	User VARCHAR(32) NOT NULL,
	Submitted BIGINT UNSIGNED NOT NULL,
	End BIGINT UNSIGNED NOT NULL,
	Quorum DECIMAL(2,2) UNSIGNED NOT NULL,
	SubmitterID INTEGER UNSIGNED NOT NULL,
	Yes INTEGER UNSIGNED NOT NULL DEFAULT 0,
	No INTEGER UNSIGNED NOT NULL DEFAULT 0,
	Abstain INTEGER UNSIGNED NOT NULL DEFAULT 0,
	ActiveUsers INTEGER UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (ID),
	FOREIGN KEY (SubmitterID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE Votes (
	VoteID INTEGER UNSIGNED NOT NULL,
	UserID INTEGER UNSIGNED NOT NULL,
	FOREIGN KEY (VoteID) REFERENCES VoteInfo (ID) ON DELETE CASCADE,
	FOREIGN KEY (UserID) REFERENCES Users (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE Bans (
	IPAddress VARCHAR(45) NOT NULL,
	BanTS TIMESTAMP NOT NULL,
	PRIMARY KEY (IPAddress)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE Terms (
	ID INTEGER UNSIGNED NOT NULL AUTO_INCREMENT,
	Description VARCHAR(255) NOT NULL,
	URL VARCHAR(8000) NOT NULL,
	Revision INTEGER UNSIGNED NOT NULL DEFAULT 1,
	PRIMARY KEY (ID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE AcceptedTerms (
	UsersID INTEGER UNSIGNED NOT NULL,
	TermsID INTEGER UNSIGNED NOT NULL,
	Revision INTEGER UNSIGNED NOT NULL DEFAULT 0,
	FOREIGN KEY (UsersID) REFERENCES Users (ID) ON DELETE CASCADE,
	FOREIGN KEY (TermsID) REFERENCES Terms (ID) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- No separate UNIQUE (IP): the primary key already makes IP unique (aurweb's schema.py adds
-- a redundant one; no migration does).
CREATE TABLE ApiRateLimit (
	IP VARCHAR(45) NOT NULL,
	Requests INT(11) NOT NULL,
	WindowStart BIGINT(20) NOT NULL,
	PRIMARY KEY (IP)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

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
