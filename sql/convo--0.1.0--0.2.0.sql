-- convo 0.1.0 -> 0.2.0, run by ALTER EXTENSION convo UPDATE.
--
-- Each section below brings one change of the install script (sql/*.sql) to an existing
-- database, in the same words: the upgrade test (tests/scenarios/upgrade.sh) compares the
-- upgraded schema with a fresh install, object by object, and checks that data survives.

\echo Use "ALTER EXTENSION convo UPDATE" to load this file. \quit
