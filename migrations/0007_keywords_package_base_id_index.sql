-- Index PackageKeywords by PackageBaseID alone (aurweb 6.1.8), for looking up a package
-- base's keywords.
--
-- alembic-revision: 9e3158957fd7

CREATE INDEX KeywordsPackageBaseID ON PackageKeywords (PackageBaseID);
