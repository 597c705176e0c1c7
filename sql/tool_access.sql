-- Who may read the tool catalogue (sql/tools.sql). It runs after security.sql, once the API
-- roles exist: the catalogue is the same for every account, so authenticated callers read all
-- of it (tool_definitions and call_tool run with their rights); anon reads nothing.
--
-- Needs: security.sql (the roles), tools.sql (convo.tools).
DO $$
DECLARE
    authed text := coalesce(nullif(current_setting('convo.authenticated_role', true), ''), 'authenticated');
BEGIN
    EXECUTE format('GRANT SELECT ON convo.tools TO %I', authed);
    EXECUTE format('CREATE POLICY catalogue ON convo.tools FOR SELECT TO %I USING (true)', authed);
END
$$;
