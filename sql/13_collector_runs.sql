-- Source `collector_runs`: one row per collector run, written by the run itself or, when the
-- run was killed, by `vc collect`. Deduped on the run id: a run is recorded at most once.

-- The stored line's columns, typed once: read_json infers nothing (no sampling across files).
CREATE MACRO vc_collector_runs_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', "key": 'VARCHAR',
  data: 'STRUCT(
    source VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, duration_ms BIGINT, bytes BIGINT,
    "rows" BIGINT, status VARCHAR, error VARCHAR, warnings VARCHAR[]
  )'
};

-- `tolerant` skips malformed lines (as all-NULL rows, dropped below); it halves parse speed, so
-- the recent table is first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
CREATE MACRO vc_read_collector_runs(files, tolerant) AS TABLE
SELECT machine_id, collected_at, run_id, data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = vc_collector_runs_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
QUALIFY row_number() OVER (PARTITION BY machine_id, coalesce("key", run_id) ORDER BY collected_at) = 1;

-- All history. `day` comes from the file name, so `WHERE day = ...` reads only that day's files.
CREATE VIEW collector_runs AS
SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day, machine_id, collected_at, run_id, data.*
FROM read_json(getvariable('vc_files_collector_runs'), format = 'newline_delimited', hive_partitioning = false,
  ignore_errors = true, filename = true, maximum_object_size = 2097152, columns = vc_collector_runs_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
  AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE
QUALIFY row_number() OVER (PARTITION BY machine_id, coalesce("key", run_id) ORDER BY collected_at) = 1;
COMMENT ON VIEW collector_runs IS 'Source collector_runs (all history; filter on day to read only those days): every collector run (source, start/end, duration, bytes, rows, status, error, warnings)';

-- A table, parsed once per session: every derived view reads it.
CREATE TABLE collector_runs_recent AS FROM vc_read_collector_runs(getvariable('vc_recent_collector_runs'), getvariable('vc_tolerant'));
COMMENT ON TABLE collector_runs_recent IS 'Source collector_runs over the recent window (the last hours, plus each machine''s newest day): what derived views read';
