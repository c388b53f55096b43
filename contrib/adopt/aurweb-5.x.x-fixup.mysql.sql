-- Optional, by hand, once: brings a database that came from aurweb 4.8.0 through the manual
-- steps of upgrading/5.x.x.txt (as aurweb's production did) to the exact schema of our
-- migrations, so that `aurweb-migrate adopt --from alembic` finds no difference and needs no
-- --accept-drift, and `check --drift` stays clean afterwards.
--
-- Those manual steps appended three columns instead of placing them, and gave
-- PackageRequests.ClosedUID no foreign key. That is what adoption reports:
--   PackageRequests: column Status position: expected after ClosedUID, found after RequestTS
--   PackageRequests: foreign key (ClosedUID) references Users (ID): missing (...)
--   Users: column BackupEmail position: expected after Email, found after OwnershipNotify
-- Run this file only when adoption reports exactly these (plus nothing else you have not
-- understood), before or after adopting:
--
--   mariadb aur < contrib/adopt/aurweb-5.x.x-fixup.mysql.sql
--
-- What it does:
--   1. ClosedUID values naming a user that no longer exists (possible without the foreign
--      key) become NULL, which is what ON DELETE SET NULL would have done;
--   2. PackageRequests: Status moves after ClosedUID, and the foreign key is added;
--   3. Users: BackupEmail moves after Email.
-- Each MODIFY restates the column's whole definition (the one in schema/mysql.sql) and only
-- moves it. Both ALTERs rebuild their table (online on MariaDB: reads and writes go on);
-- on aurweb's sizes that takes seconds. Each statement commits on its own. Run it once: a
-- second run would add a second, redundant foreign key (if a run stops part-way, see what is
-- left with `aurweb-migrate schema diff` or the adoption's list, and finish by hand).

UPDATE PackageRequests SET ClosedUID = NULL
WHERE ClosedUID IS NOT NULL AND ClosedUID NOT IN (SELECT ID FROM Users);

ALTER TABLE PackageRequests
	MODIFY Status TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER ClosedUID,
	ADD FOREIGN KEY (ClosedUID) REFERENCES Users (ID) ON DELETE SET NULL;

ALTER TABLE Users MODIFY BackupEmail VARCHAR(254) NULL DEFAULT NULL AFTER Email;
