-- PackageBases.PopularityUpdated (aurweb 6.1.5): when the popularity updater last refreshed
-- the row, default '1970-01-01 00:00:01' (the smallest TIMESTAMP, i.e. "never"). Then every
-- package base's Popularity is recomputed.
--
-- The default is read in the session time zone; aurweb-migrate sets time_zone = '+00:00' on
-- connect. (Run by hand in a session east of UTC the literal would fall before the epoch and
-- the server would reject it.)
--
-- Differences from aurweb's revision:
--   * aurweb skipped the ADD COLUMN when it failed (column already there); aurweb-migrate's
--     history makes sure this runs exactly once, so there is no guard.
--   * aurweb then ran its popularity updater (popupdate.run_variable(), Python). Here the
--     popularity is recomputed in SQL with the updater's formula: the sum, over the base's
--     votes, of 0.98 ^ (days since VoteTS), days counted fractionally (seconds / 86400),
--     "now" being the server's UNIX_TIMESTAMP() when the statement runs, a base without
--     votes getting 0. A vote dated in the future counts as 1 (0 days) instead of slightly
--     more than 1, so that the UNSIGNED DECIMAL column cannot overflow. The result is
--     rounded to the column's 6 decimals.
--   * Nothing else the updater may do is repeated here: NumVotes is left alone, and
--     PopularityUpdated keeps its default, so the next run of aurweb's updater treats every
--     row as not refreshed yet and recomputes it with its own clock.
--
-- alembic-revision: 6441d3b65270

ALTER TABLE PackageBases ADD COLUMN PopularityUpdated TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:01';

UPDATE PackageBases SET Popularity = (
	SELECT ROUND(COALESCE(SUM(POWER(0.98,
		GREATEST(0, CAST(UNIX_TIMESTAMP() AS SIGNED) - CAST(v.VoteTS AS SIGNED)) / 86400)), 0), 6)
	FROM PackageVotes v
	WHERE v.PackageBaseID = PackageBases.ID
);
