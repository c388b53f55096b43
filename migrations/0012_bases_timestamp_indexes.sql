-- Index PackageBases by ModifiedTS and by SubmittedTS (aurweb 6.2.12), for the listings
-- sorted by last update and by age.
--
-- alembic-revision: 38e5b9982eea

CREATE INDEX BasesModifiedTS ON PackageBases (ModifiedTS);

CREATE INDEX BasesSubmittedTS ON PackageBases (SubmittedTS);
