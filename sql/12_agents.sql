-- Source `agents`: tmux sessions, panes and coding-agent processes per run (lib/sources/agents.ts).

-- The stored line's columns, typed once: read_json infers nothing (no sampling across files).
CREATE MACRO vc_agents_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR',
  collector_version: 'VARCHAR', schema_version: 'INTEGER',
  data: 'STRUCT(
    "type" VARCHAR, "session" VARCHAR, session_id VARCHAR, session_created_at TIMESTAMP,
    session_activity_at TIMESTAMP, session_attached BOOLEAN, session_windows INTEGER,
    window_index INTEGER, window_name VARCHAR, pane_index INTEGER, pane_id VARCHAR, pane_pid INTEGER,
    pane_command VARCHAR, pane_path VARCHAR, pane_dead BOOLEAN, pane_activity_at TIMESTAMP,
    pid INTEGER, ppid INTEGER, agent VARCHAR, comm VARCHAR, args VARCHAR, cwd VARCHAR, state VARCHAR,
    cpu_seconds DOUBLE, rss_bytes BIGINT, started_at TIMESTAMP, "user" VARCHAR
  )'
};

-- `tolerant` skips malformed lines (as all-NULL rows, dropped below); it halves parse speed, so
-- the recent table is first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
CREATE MACRO vc_read_agents(files, tolerant) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = vc_agents_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now();

-- All history. `day` comes from the file name, so `WHERE day = ...` reads only that day's files.
CREATE VIEW agents AS
SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day, machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(getvariable('vc_files_agents'), format = 'newline_delimited', hive_partitioning = false,
  ignore_errors = true, filename = true, maximum_object_size = 2097152, columns = vc_agents_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
  AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE;
COMMENT ON VIEW agents IS 'Source agents (all history; filter on day to read only those days): tmux sessions and panes and coding-agent processes per run (type = session|pane|process)';

-- A table, parsed once per session: every derived view reads it.
CREATE TABLE agents_recent AS FROM vc_read_agents(getvariable('vc_recent_agents'), getvariable('vc_tolerant'));
COMMENT ON TABLE agents_recent IS 'Source agents over the recent window (the last hours, plus each machine''s newest day): what derived views read';
