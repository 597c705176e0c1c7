-- What an installation of convo consists of, one sorted line per object and attribute: the
-- upgrade test prints it for a fresh install and for an upgraded one and diffs the two.
-- Identifiers and definitions only, never oids, so two databases compare line by line.
-- Run with psql -At; the objects of the extension (schema convo) and its reference rows.

WITH ext AS (
    SELECT e.oid FROM pg_extension e WHERE e.extname = 'convo'
), nsp AS (
    SELECT n.oid FROM pg_namespace n WHERE n.nspname = 'convo'
), lines AS (
    -- Relations: kind, persistence, options, row-level security, privileges, comment.
    SELECT format('relation %s kind=%s persistence=%s options=%s rls=%s force_rls=%s comment=%s',
                  c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity,
                  c.relforcerowsecurity, obj_description(c.oid, 'pg_class')) AS line
      FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Privileges as one line per grantee (the order inside an aclitem[] depends on history).
    SELECT format('relation %s grant %s', c.relname, a.grantee_privileges)
      FROM pg_class c,
           LATERAL (SELECT coalesce(r.rolname, 'PUBLIC') || '=' || string_agg(x.privilege_type, ',' ORDER BY x.privilege_type)
                           || ' grantable=' || bool_or(x.is_grantable) AS grantee_privileges
                      FROM aclexplode(c.relacl) x LEFT JOIN pg_roles r ON r.oid = x.grantee
                     GROUP BY r.rolname) a
     WHERE c.relnamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Columns, numbered in order among the live ones (a dropped column leaves a gap in attnum).
    SELECT format('column %s.%s #%s type=%s not_null=%s default=%s identity=%s generated=%s compression=%s collation=%s comment=%s',
                  c.relname, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                  a.attidentity, a.attgenerated, a.attcompression,
                  CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END,
                  col_description(c.oid, a.attnum))
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relnamespace = (SELECT oid FROM nsp) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c', 'u')
    UNION ALL
    SELECT format('column %s.%s grant %s', c.relname, a.attname, x.grantee_privileges)
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL,
           LATERAL (SELECT coalesce(r.rolname, 'PUBLIC') || '=' || string_agg(e.privilege_type, ',' ORDER BY e.privilege_type)
                           AS grantee_privileges
                      FROM aclexplode(a.attacl) e LEFT JOIN pg_roles r ON r.oid = e.grantee
                     GROUP BY r.rolname) x
     WHERE c.relnamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Constraints of tables and domains, by name.
    SELECT format('constraint %s.%s %s deferrable=%s deferred=%s validated=%s',
                  coalesce(c.relname, t.typname), k.conname, pg_get_constraintdef(k.oid),
                  k.condeferrable, k.condeferred, k.convalidated)
      FROM pg_constraint k
      LEFT JOIN pg_class c ON c.oid = k.conrelid
      LEFT JOIN pg_type t ON t.oid = k.contypid
     WHERE k.connamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Indexes, whole definitions (name, method, columns, predicate).
    SELECT format('index %s on %s %s', i.relname, c.relname, pg_get_indexdef(x.indexrelid))
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class c ON c.oid = x.indrelid
     WHERE c.relnamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Views and materialized views.
    SELECT format('view %s %s', c.relname, pg_get_viewdef(c.oid))
      FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM nsp) AND c.relkind IN ('v', 'm')
    UNION ALL
    -- Sequences (identity columns' too).
    SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  s.sequencename, s.data_type, s.start_value, s.increment_by, s.min_value, s.max_value,
                  s.cache_size, s.cycle)
      FROM pg_sequences s WHERE s.schemaname = 'convo'
    UNION ALL
    -- Functions and procedures: the whole CREATE statement (language, volatility, security,
    -- settings, body), owner, comment.
    SELECT format('function %s %s owner=%s comment=%s',
                  p.oid::regprocedure,
                  CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid)
                       ELSE pg_get_function_identity_arguments(p.oid) END,
                  pg_get_userbyid(p.proowner), obj_description(p.oid, 'pg_proc'))
      FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM nsp)
    UNION ALL
    SELECT format('function %s grant %s', p.oid::regprocedure, x.grantee_privileges)
      FROM pg_proc p,
           LATERAL (SELECT coalesce(r.rolname, 'PUBLIC') || '=' || string_agg(e.privilege_type, ',' ORDER BY e.privilege_type)
                           AS grantee_privileges
                      FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) e
                      LEFT JOIN pg_roles r ON r.oid = e.grantee
                     GROUP BY r.rolname) x
     WHERE p.pronamespace = (SELECT oid FROM nsp)
    UNION ALL
    -- Triggers.
    SELECT format('trigger %s.%s %s enabled=%s', c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled)
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = (SELECT oid FROM nsp) AND NOT t.tgisinternal
    UNION ALL
    -- Row-level security policies.
    SELECT format('policy %s.%s permissive=%s roles=%s cmd=%s using=%s check=%s',
                  p.tablename, p.policyname, p.permissive, p.roles, p.cmd, p.qual, p.with_check)
      FROM pg_policies p WHERE p.schemaname = 'convo'
    UNION ALL
    -- Types and domains (not the row types of tables).
    SELECT format('type %s kind=%s base=%s not_null=%s default=%s comment=%s',
                  t.typname, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                  t.typdefault, obj_description(t.oid, 'pg_type'))
      FROM pg_type t
     WHERE t.typnamespace = (SELECT oid FROM nsp) AND t.typtype IN ('d', 'e', 'c', 'r')
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    UNION ALL
    SELECT format('enum %s %s', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder))
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typnamespace = (SELECT oid FROM nsp)
     GROUP BY t.typname
    UNION ALL
    -- The schema itself.
    SELECT format('schema convo owner=%s comment=%s', pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n WHERE n.oid = (SELECT oid FROM nsp)
    UNION ALL
    SELECT format('schema convo grant %s', x.grantee_privileges)
      FROM pg_namespace n,
           LATERAL (SELECT coalesce(r.rolname, 'PUBLIC') || '=' || string_agg(e.privilege_type, ',' ORDER BY e.privilege_type)
                           AS grantee_privileges
                      FROM aclexplode(n.nspacl) e LEFT JOIN pg_roles r ON r.oid = e.grantee
                     GROUP BY r.rolname) x
     WHERE n.oid = (SELECT oid FROM nsp)
    UNION ALL
    -- What belongs to the extension (DROP EXTENSION removes exactly this), and which tables
    -- pg_dump treats as configuration.
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = (SELECT oid FROM ext) AND d.deptype = 'e'
    UNION ALL
    SELECT format('config table %s condition=%s', c.relname, e.extcondition[array_position(e.extconfig, c.oid)])
      FROM pg_extension e JOIN pg_class c ON c.oid = ANY (e.extconfig)
     WHERE e.oid = (SELECT oid FROM ext)
    UNION ALL
    -- Reference rows the install script writes (user-tunable values are compared by name and
    -- by the value convo installed, never by the value a user tuned).
    SELECT format('setting %s description=%s installed=%s', s.name, s.description, s.installed) FROM convo.settings s
    UNION ALL
    SELECT format('tool %s', to_jsonb(t)) FROM convo.tools t
    UNION ALL
    SELECT format('managed index %s', to_jsonb(m)) FROM convo.managed_indexes m
    UNION ALL
    SELECT format('cache namespace %s', to_jsonb(n)) FROM convo.cache_namespaces n
)
SELECT line FROM lines ORDER BY line COLLATE "C";
