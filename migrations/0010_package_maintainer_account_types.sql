-- Rename the account types "Trusted User" (2) and "Trusted User & Developer" (4) to
-- "Package Maintainer" and "Package Maintainer & Developer" (aurweb 6.2.8).
--
-- aurweb did this with an ORM update of the rows with those IDs; this is the same UPDATE in
-- SQL, by ID, so a row renamed by hand before is renamed as well.
--
-- alembic-revision: 6a64dd126029

UPDATE AccountTypes SET AccountType = 'Package Maintainer' WHERE ID = 2;

UPDATE AccountTypes SET AccountType = 'Package Maintainer & Developer' WHERE ID = 4;
