-- Source `afsc` (automated_flywheel_setup_checker): what `status` said on each run
-- (lib/sources/afsc.ts): a `run` row (the latest afsc run's summary, or no_runs, or the error afsc
-- exited with) and a `result` row per installer (status, exit code, afsc's classified error).

CREATE MACRO vc_afsc_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, afsc_run_id VARCHAR, no_runs BOOLEAN, exit_code INTEGER, error VARCHAR,
    total INTEGER, passed INTEGER, failed INTEGER, skipped INTEGER, duration_total_ms BIGINT,
    started_at TIMESTAMP, ended_at TIMESTAMP,
    installer VARCHAR, status VARCHAR, duration_ms BIGINT, installer_exit_code INTEGER, finished_at TIMESTAMP,
    error_category VARCHAR, error_severity VARCHAR, retryable BOOLEAN, confidence DOUBLE,
    stderr_excerpt VARCHAR, retry_count INTEGER, sha256_verified BOOLEAN
  )'
};

CREATE VIEW afsc AS
FROM vc_read_days(getvariable('vc_files_afsc'), getvariable('vc_parquet_afsc'), vc_afsc_columns());
COMMENT ON VIEW afsc IS 'Source afsc (all history; day = the day it was collected): per run of automated_flywheel_setup_checker status, a run row (afsc run id, totals, start and end, no_runs, error) and a result row per installer (status, installer exit code, error category, severity, retryable, confidence, stderr excerpt)';

CREATE MACRO vc_afsc_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_afsc'), getvariable('vc_recent_parquet_afsc'), getvariable('vc_recent_tail_afsc'), getvariable('vc_tolerant'), vc_afsc_columns());
