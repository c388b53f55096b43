-- The five vote columns that aurweb's Alembic revisions redefined by accident get the
-- definitions aurweb's schema.py declares (and create_all gives a fresh aurweb database):
--   * PackageVotes.VoteTS: signed BIGINT NOT NULL (left by d64e5571bc8d, our 0005) becomes
--     BIGINT UNSIGNED NOT NULL again, as it was before and as every other timestamp is;
--   * VoteInfo.Yes, No, Abstain, ActiveUsers: INT UNSIGNED NULL without a default (left by
--     be7adae47ac3, our 0004) become INT UNSIGNED NOT NULL DEFAULT 0 again.
-- aurweb has no such revision: it is ours, so it declares no alembic-revision, and a
-- database adopted at aurweb's head (version 17) gets it from its first `upgrade`.
--
-- Data first, so that nothing is refused or clamped by the stricter columns:
--   * a negative VoteTS becomes 0. The only source of one is d64e5571bc8d run east of
--     Greenwich, which filled the missing timestamps with the local-time epoch
--     (e.g. -3600 in UTC+1) where it meant 0, 1970-01-01T00:00:00Z — what 0005 writes;
--   * a NULL vote count becomes 0, the columns' old and new default (a proposal with no
--     votes recorded has none).
--
-- Four statements, each committed on its own (ALTER TABLE commits implicitly); the tool
-- records progress after each, so a failure part-way is resumed with `upgrade --resume`. Each
-- UPDATE is harmless to run again.

UPDATE PackageVotes SET VoteTS = 0 WHERE VoteTS < 0;

ALTER TABLE PackageVotes MODIFY VoteTS BIGINT UNSIGNED NOT NULL;

UPDATE VoteInfo
SET Yes = COALESCE(Yes, 0),
	No = COALESCE(No, 0),
	Abstain = COALESCE(Abstain, 0),
	ActiveUsers = COALESCE(ActiveUsers, 0)
WHERE Yes IS NULL OR No IS NULL OR Abstain IS NULL OR ActiveUsers IS NULL;

ALTER TABLE VoteInfo
	MODIFY Yes INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY No INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY Abstain INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY ActiveUsers INTEGER UNSIGNED NOT NULL DEFAULT 0;
