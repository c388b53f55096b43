-- Convert the 23 tables that hold text from utf8 (utf8mb3) to utf8mb4 (aurweb 6.0.0):
-- utf8mb4_bin for OfficialProviders, SSHPubKeys and Sessions (names, fingerprints and
-- session IDs compare byte for byte), utf8mb4_general_ci for the others. The seven tables
-- with only integer columns (PackageLicenses, PackageGroups, PackageVotes,
-- PackageComaintainers, PackageNotifications, TU_Votes, AcceptedTerms) are left as they are.
-- Then the unique index ProviderNameProvides is dropped and created again, as aurweb did.
--
-- Differences from aurweb's revision:
--   * None in effect, but note: CONVERT TO CHARACTER SET widens every TEXT column to
--     MEDIUMTEXT (MariaDB and MySQL keep the column able to hold as many characters as
--     before). aurweb's revision lets that happen, so the 7 TEXT columns of these tables
--     (Users.Homepage, PackageBases.FlaggerComment, PackageComments.Comments and
--     .RenderedComment, PackageRequests.Comments and .ClosureComment, TU_VoteInfo.Agenda)
--     are MEDIUMTEXT in every database Alembic upgraded, production's included, although
--     aurweb's schema.py says TEXT. We keep that outcome, so such databases adopt without
--     drift; schema/mysql.sql declares MEDIUMTEXT for the same reason.
--   * aurweb wrote `DROP INDEX IF EXISTS`, which MySQL 8 rejects; the index always exists at
--     this point, so the plain statement is used.
--
-- alembic-revision: 56e2ce8e2ffa

ALTER TABLE AccountTypes CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE Users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE SSHPubKeys CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE Sessions CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE PackageBases CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageKeywords CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE Packages CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE Licenses CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE `Groups` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE DependencyTypes CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageDepends CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE RelationTypes CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageRelations CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageSources CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageComments CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageBlacklist CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE OfficialProviders CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE RequestTypes CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE PackageRequests CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE TU_VoteInfo CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE Bans CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE Terms CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

ALTER TABLE ApiRateLimit CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

DROP INDEX ProviderNameProvides ON OfficialProviders;

CREATE UNIQUE INDEX ProviderNameProvides ON OfficialProviders (Name, Provides);
