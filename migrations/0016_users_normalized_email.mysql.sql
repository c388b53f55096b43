-- Users.NormalizedEmail (after aurweb 6.4.2): the e-mail address in a canonical form, unique,
-- so that one address cannot register several accounts. NULL for the accounts that share a
-- normalized address with an older account (they are grandfathered in). Steps, in aurweb's
-- order:
--   1. add the nullable column VARCHAR(320);
--   2. delete suspended accounts that own no content (spam sign-ups);
--   3. fill NormalizedEmail for every account;
--   4. keep it only on the oldest account (lowest ID) of each group sharing one value;
--   5. on MySQL, the Users table is made ROW_FORMAT=DYNAMIC unless it is COMPRESSED: the
--      index's key is 320 utf8mb4 characters, 1280 bytes, more than the 767 bytes COMPACT
--      and REDUNDANT rows allow;
--   6. create the unique index UsersNormalizedEmail.
--
-- Differences from aurweb's revision (which is Python and cannot be rendered as SQL):
--   * Step 2 is aurweb's rule, in SQL. "Content" is every row that names the user in one
--     of these 8 tables and 14 columns: PackageBases (FlaggerUID, SubmitterUID,
--     MaintainerUID, PackagerUID), PackageComments (UsersID, EditedUsersID, DelUsersID),
--     PackageRequests (UsersID, ClosedUID), PackageVotes (UsersID), PackageComaintainers
--     (UsersID), PackageNotifications (UserID), VoteInfo (SubmitterID), Votes (UserID).
--     These are exactly the columns aurweb's revision checks (its content_columns), one
--     EXISTS test per column as aurweb writes it: every reference to Users except
--     Sessions, SSHPubKeys and AcceptedTerms, which registration creates before any
--     verification and which go with the account (ON DELETE CASCADE). A user who deleted
--     someone's comment, for example, is kept: DelUsersID is ON DELETE CASCADE and would
--     take the comment along. aurweb tests `Suspended = 1`, this `Suspended <> 0` (the
--     flag holds only 0 and 1). aurweb also prints a report of what it did; SQL cannot.
--   * Step 3. aurweb uses its Python normalize_email(): email-validator's normalisation
--     (IDNA/Unicode folding of the domain, Unicode normalisation of the local part),
--     lower-casing, and per-provider rules for dots and "+tag" suffixes in the local part.
--     SQL can do none of that faithfully, so this migration only lower-cases the whole
--     address: NormalizedEmail = LOWER(Email). Lower-casing is justified for every address
--     (aurweb already treats addresses case-insensitively: Users.Email is unique under
--     utf8mb4_general_ci). Provider-specific dot and "+tag" rules are NOT applied: which
--     providers and rules aurweb uses is not in our notes, and a rule aurweb does not apply
--     would make distinct addresses collide and lose their value. MySQL's LOWER() folds
--     all of Unicode with one-to-one mappings; Python's str.lower() differs for the few
--     characters whose lower case is several characters. Step 4 groups by the column's collation,
--     utf8mb4_general_ci, the same comparison the unique index uses, so the index can always
--     be created. (Users.Email is itself unique under that collation, so lower-casing alone
--     cannot produce duplicates on MySQL; step 4 matters for the rules aurweb adds.)
--     Consequences: addresses that aurweb's rules would merge (dots, "+tags", IDNA forms of
--     a domain) keep distinct values here, so such duplicates are not detected and the value
--     stored can differ from the one aurweb computes for the same address later; an address
--     aurweb's validator rejects still gets a value here. To have exactly aurweb's values,
--     recompute the column with aurweb's normalize_email() afterwards (outside this tool).
--   * Step 4. aurweb keeps the address on one member of each group, chosen by rank
--     (not suspended, then verified or with content, then an address that is already in
--     normal form, then the lowest ID), and on none when no member is verified or has
--     content; here the lowest ID keeps it. With LOWER() as the normalisation, groups only
--     arise where Users.Email's own comparison is stricter than the index's (on SQLite,
--     addresses differing only in case), so in practice this rarely applies.
--   * Step 5. aurweb rebuilds Users only when it is neither DYNAMIC nor COMPRESSED; here
--     the ALTER runs on a DYNAMIC table too (where it changes nothing but the table's
--     recorded options), so that a replayed database has the same explicit
--     `ROW_FORMAT=DYNAMIC` in SHOW CREATE TABLE as one built from ../schema/mysql.sql,
--     whatever the server's default row format. A COMPRESSED table is left as it is.
--   * Step 1: aurweb skips the ADD COLUMN when the column exists; aurweb-migrate's history
--     makes sure this runs exactly once, so there is no guard.
--
-- alembic-revision: b7c419f0a2d1

ALTER TABLE Users ADD COLUMN NormalizedEmail VARCHAR(320) NULL DEFAULT NULL;

DELETE FROM Users
WHERE Suspended <> 0
	AND NOT EXISTS (SELECT 1 FROM PackageBases t WHERE t.FlaggerUID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageBases t WHERE t.SubmitterUID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageBases t WHERE t.MaintainerUID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageBases t WHERE t.PackagerUID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageComments t WHERE t.UsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageComments t WHERE t.EditedUsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageComments t WHERE t.DelUsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageRequests t WHERE t.UsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageRequests t WHERE t.ClosedUID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageVotes t WHERE t.UsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageComaintainers t WHERE t.UsersID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM PackageNotifications t WHERE t.UserID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM VoteInfo t WHERE t.SubmitterID = Users.ID)
	AND NOT EXISTS (SELECT 1 FROM Votes t WHERE t.UserID = Users.ID);

UPDATE Users SET NormalizedEmail = LOWER(Email);

UPDATE Users u
JOIN (
	SELECT NormalizedEmail, MIN(ID) AS KeepID
	FROM Users
	WHERE NormalizedEmail IS NOT NULL
	GROUP BY NormalizedEmail
	HAVING COUNT(*) > 1
) d ON u.NormalizedEmail = d.NormalizedEmail
SET u.NormalizedEmail = NULL
WHERE u.ID <> d.KeepID;

SET @aurweb_sql := IF(
	(SELECT ROW_FORMAT FROM INFORMATION_SCHEMA.TABLES
	 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Users') = 'Compressed',
	'DO 0',
	'ALTER TABLE Users ROW_FORMAT=DYNAMIC'
);

PREPARE aurweb_stmt FROM @aurweb_sql;

EXECUTE aurweb_stmt;

DEALLOCATE PREPARE aurweb_stmt;

CREATE UNIQUE INDEX UsersNormalizedEmail ON Users (NormalizedEmail);
