-- Source `cass` (cass): what cass's robot mode said on each run (lib/sources/cass.ts): a `run` row
-- (version), a `health` row (status, index state and age), a `stats` row (conversation and message
-- totals), `agent` and `workspace` rows (conversations each), a `timeline` row (the range asked for)
-- with `bucket` rows (sessions started per hour and agent), and an `error` row per command that
-- failed with cass's error envelope.

CREATE MACRO vc_cass_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, cass_version VARCHAR, contract_version VARCHAR, build_commit VARCHAR, exit_code INTEGER,
    status VARCHAR, healthy BOOLEAN, health_level VARCHAR, initialized BOOLEAN, exit_policy VARCHAR,
    errors VARCHAR[], warnings VARCHAR[], recommended_action VARCHAR, recommended_commands VARCHAR[], latency_ms BIGINT,
    db_exists BOOLEAN, db_opened BOOLEAN, db_open_error VARCHAR,
    index_exists BOOLEAN, index_status VARCHAR, index_fresh BOOLEAN, index_stale BOOLEAN, last_indexed_at TIMESTAMP,
    index_age_s BIGINT, stale_threshold_s BIGINT, documents BIGINT, rebuilding BOOLEAN, rebuild_stalled BOOLEAN,
    rebuild_phase VARCHAR, rebuild_completion DOUBLE, pending_sessions BIGINT, watch_active BOOLEAN,
    quarantined_conversations BIGINT, reported_at TIMESTAMP,
    conversations BIGINT, messages BIGINT, oldest_at TIMESTAMP, newest_at TIMESTAMP,
    raw_mirror_bytes BIGINT, raw_mirror_missing_blobs BIGINT, newest_capture_at TIMESTAMP,
    agent VARCHAR, workspace VARCHAR, range_start TIMESTAMP, range_end TIMESTAMP, total_sessions BIGINT,
    bucket_start TIMESTAMP, bucket_hours INTEGER, complete BOOLEAN, sessions BIGINT,
    step VARCHAR, error_code INTEGER, error_kind VARCHAR, message VARCHAR, hint VARCHAR, retryable BOOLEAN
  )'
};

CREATE VIEW cass AS
FROM vc_read_days(getvariable('vc_files_cass'), getvariable('vc_parquet_cass'), vc_cass_columns());
COMMENT ON VIEW cass IS 'Source cass (all history; day = the day it was collected): per run of cass api-version/health/stats/timeline a run row (cass_version), a health row (status, healthy, index_status, last_indexed_at, index_age_s), a stats row (conversations, messages), agent and workspace rows (conversations), a timeline row and bucket rows (sessions and messages per hour and agent), error rows (step, error_kind, message)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as cass_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_cass_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_cass'), getvariable('vc_recent_parquet_cass'), getvariable('vc_recent_tail_cass'), getvariable('vc_tolerant'), vc_cass_columns());
