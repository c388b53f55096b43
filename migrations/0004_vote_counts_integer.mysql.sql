-- TU_VoteInfo vote counts Yes, No, Abstain and ActiveTUs: TINYINT(3) UNSIGNED (at most 255)
-- becomes INTEGER UNSIGNED (aurweb 6.0.0). Nullability and default are kept.
--
-- alembic-revision: be7adae47ac3

ALTER TABLE TU_VoteInfo
	MODIFY Yes INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY No INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY Abstain INTEGER UNSIGNED NOT NULL DEFAULT 0,
	MODIFY ActiveTUs INTEGER UNSIGNED NOT NULL DEFAULT 0;
