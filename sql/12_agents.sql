-- Source `agents`: tmux sessions, panes and coding-agent processes per run (lib/sources/agents.ts).

-- The stored line's columns, typed once.
CREATE MACRO vc_agents_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, "session" VARCHAR, session_id VARCHAR, session_created_at TIMESTAMP,
    session_activity_at TIMESTAMP, session_attached BOOLEAN, session_windows INTEGER,
    window_index INTEGER, window_name VARCHAR, pane_index INTEGER, pane_id VARCHAR, pane_pid INTEGER,
    pane_command VARCHAR, pane_path VARCHAR, pane_dead BOOLEAN, pane_activity_at TIMESTAMP,
    pid INTEGER, ppid INTEGER, agent VARCHAR, comm VARCHAR, args VARCHAR, cwd VARCHAR, state VARCHAR,
    cpu_seconds DOUBLE, rss_bytes BIGINT, started_at TIMESTAMP, "user" VARCHAR
  )'
};

CREATE VIEW agents AS
FROM vc_read_days(getvariable('vc_files_agents'), getvariable('vc_parquet_agents'), vc_agents_columns());
COMMENT ON VIEW agents IS 'Source agents (all history; filter on day to read only those days): tmux sessions and panes and coding-agent processes per run (type = session|pane|process)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as agents_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_agents_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_agents'), getvariable('vc_recent_parquet_agents'), getvariable('vc_recent_tail_agents'), getvariable('vc_tolerant'), vc_agents_columns());
