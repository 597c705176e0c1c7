-- The extension installs whole: schema, tables, functions, roles.
BEGIN;
SELECT plan(6);
SELECT has_extension('convo');
SELECT has_schema('convo');
SELECT has_table('convo'::name, 'messages'::name);
SELECT has_function('convo', 'free_window', ARRAY['uuid', 'timestamp with time zone']);
SELECT has_role('authenticated');
SELECT has_role('service_role');
SELECT * FROM finish();
ROLLBACK;
