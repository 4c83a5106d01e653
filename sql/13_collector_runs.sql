-- Source `collector_runs`: one row per collector run, written by the run itself or, when the
-- run was killed, by `vc collect`. Deduped on the run id: a run is recorded at most once.

-- The stored line's columns, typed once.
CREATE MACRO vc_collector_runs_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    source VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, bytes BIGINT,
    "rows" BIGINT, status VARCHAR, error VARCHAR, warnings VARCHAR[]
  )'
};

CREATE VIEW collector_runs AS
FROM vc_read_days(getvariable('vc_files_collector_runs'), getvariable('vc_parquet_collector_runs'), vc_collector_runs_columns())
-- A run recorded twice (by itself, and by vc collect after killing it) counts once.
QUALIFY row_number() OVER (PARTITION BY machine_id, coalesce("key", run_id) ORDER BY collected_at) = 1;
COMMENT ON VIEW collector_runs IS 'Source collector_runs (all history; filter on day to read only those days): every collector run (source, start/end, duration, bytes, rows, status, error, warnings)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as collector_runs_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_collector_runs_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_collector_runs'), getvariable('vc_recent_parquet_collector_runs'), getvariable('vc_recent_tail_collector_runs'), getvariable('vc_tolerant'), vc_collector_runs_columns())
-- A run recorded twice (by itself, and by vc collect after killing it) counts once.
QUALIFY row_number() OVER (PARTITION BY machine_id, coalesce("key", run_id) ORDER BY collected_at) = 1;
