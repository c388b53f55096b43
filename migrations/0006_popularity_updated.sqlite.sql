-- PackageBases.PopularityUpdated (aurweb 6.1.5): when the popularity updater last refreshed
-- the row, default '1970-01-01 00:00:01' (i.e. "never"). Then every package base's Popularity
-- is recomputed.
--
-- Differences from aurweb's revision:
--   * aurweb skipped the ADD COLUMN when it failed (column already there); aurweb-migrate's
--     history makes sure this runs exactly once, so there is no guard.
--   * aurweb then ran its popularity updater (popupdate.run_variable(), Python). Here the
--     popularity is recomputed in SQL with the updater's formula: the sum, over the base's
--     votes, of 0.98 ^ (days since VoteTS), days counted fractionally (seconds / 86400.0),
--     "now" being strftime('%s', 'now') when the statement runs, a base without votes getting
--     0, a vote dated in the future counting as 1 (0 days), the result rounded to 6 decimals
--     like the MySQL DECIMAL(10,6) column.
--   * SQLite has no POWER() unless it was built with SQLITE_ENABLE_MATH_FUNCTIONS (aurweb
--     registers its own POWER from Python, which a migration cannot rely on). So 0.98 ^ d is
--     computed with plain arithmetic: d = n + f with n whole days and 0 <= f < 1;
--     0.98 ^ n is the product of the constants 0.98 ^ (2 ^ k) for the bits k set in n
--     (k = 0..15, i.e. up to 179 years; older votes count 0); 0.98 ^ f = exp(f * ln 0.98) by
--     its Taylor series to the 4th power (|f * ln 0.98| < 0.0203, so the relative error is
--     below 3e-11). The result equals MySQL's POWER() to the 6 decimals stored.
--   * NumVotes is left alone, and PopularityUpdated keeps its default, so the next run of
--     aurweb's updater treats every row as not refreshed yet.
--
-- alembic-revision: 6441d3b65270

ALTER TABLE PackageBases ADD COLUMN PopularityUpdated TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:01';

WITH
	age (PackageBaseID, days) AS (
		SELECT PackageBaseID,
			MAX(0.0, (CAST(strftime('%s', 'now') AS INTEGER) - VoteTS) / 86400.0)
		FROM PackageVotes
	),
	split (PackageBaseID, n, y) AS (
		-- n: whole days; y: the fraction of a day times ln(0.98)
		SELECT PackageBaseID, CAST(days AS INTEGER),
			(days - CAST(days AS INTEGER)) * -0.020202707317519448
		FROM age
	),
	weight (PackageBaseID, w) AS (
		SELECT PackageBaseID,
			CASE WHEN n >= 65536 THEN 0.0 ELSE
				(CASE WHEN n & 1 THEN 0.98 ELSE 1.0 END)
				* (CASE WHEN n & 2 THEN 0.9604 ELSE 1.0 END)
				* (CASE WHEN n & 4 THEN 0.92236816 ELSE 1.0 END)
				* (CASE WHEN n & 8 THEN 0.8507630225817856 ELSE 1.0 END)
				* (CASE WHEN n & 16 THEN 0.72379772059249583 ELSE 1.0 END)
				* (CASE WHEN n & 32 THEN 0.52388314033489267 ELSE 1.0 END)
				* (CASE WHEN n & 64 THEN 0.27445354472714885 ELSE 1.0 END)
				* (CASE WHEN n & 128 THEN 0.075324748213297092 ELSE 1.0 END)
				* (CASE WHEN n & 256 THEN 0.0056738176933966035 ELSE 1.0 END)
				* (CASE WHEN n & 512 THEN 3.2192207217900356e-05 ELSE 1.0 END)
				* (CASE WHEN n & 1024 THEN 1.0363382055602357e-09 ELSE 1.0 END)
				* (CASE WHEN n & 2048 THEN 1.0739968763038093e-18 ELSE 1.0 END)
				* (CASE WHEN n & 4096 THEN 1.1534692903103397e-36 ELSE 1.0 END)
				* (CASE WHEN n & 8192 THEN 1.3304914036890389e-72 ELSE 1.0 END)
				* (CASE WHEN n & 16384 THEN 1.7702073752904288e-144 ELSE 1.0 END)
				* (CASE WHEN n & 32768 THEN 3.1336341515326285e-288 ELSE 1.0 END)
				* (1.0 + y + y * y / 2.0 + y * y * y / 6.0 + y * y * y * y / 24.0)
			END
		FROM split
	),
	popularity (PackageBaseID, p) AS (
		SELECT PackageBaseID, SUM(w) FROM weight GROUP BY PackageBaseID
	)
UPDATE PackageBases SET Popularity = ROUND(COALESCE(
	(SELECT p FROM popularity WHERE popularity.PackageBaseID = PackageBases.ID), 0.0), 6);
