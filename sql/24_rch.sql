-- Source `rch` (remote_compilation_helper): what `rch status --format json`, rchd's build history
-- file and rchd's /metrics said (lib/sources/rch.ts). Per run, snapshots: a `run` row (rch's exit
-- status and error envelope, the daemon, counts, stats, the scrape's outcome), `worker`,
-- `active_build`, `queued_build`, `issue`, `alert`, `hint` and `metric` rows. Completed builds are
-- events (`build`, key build:<rchd's id>), from the status and the history file alike.

CREATE MACRO vc_rch_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, exit_code INTEGER, api_version VARCHAR, status_schema VARCHAR, posture VARCHAR, posture_description VARCHAR,
    error_code VARCHAR, error_category VARCHAR, message VARCHAR, details VARCHAR,
    daemon_pid BIGINT, daemon_version VARCHAR, daemon_uptime_secs BIGINT, daemon_started_at TIMESTAMP, socket_path VARCHAR,
    workers_total INTEGER, workers_healthy INTEGER, slots_total INTEGER, slots_available INTEGER,
    builds_total BIGINT, builds_succeeded BIGINT, builds_failed BIGINT, builds_remote BIGINT, builds_local BIGINT, avg_duration_ms BIGINT,
    queue_depth INTEGER, active_count INTEGER, remediation_overall VARCHAR, convergence_status VARCHAR,
    metrics_url VARCHAR, metrics_error VARCHAR, metrics_samples INTEGER, metrics_ignored INTEGER, history_file VARCHAR,
    worker_id VARCHAR, host VARCHAR, "user" VARCHAR, status VARCHAR, circuit_state VARCHAR, used_slots INTEGER, total_slots INTEGER,
    speed_score DOUBLE, last_error VARCHAR, consecutive_failures INTEGER, recovery_in_secs BIGINT, checks_recent INTEGER, checks_failed INTEGER,
    pressure_state VARCHAR, pressure_reason_code VARCHAR, pressure_disk_free_gb DOUBLE, pressure_disk_free_ratio DOUBLE,
    pressure_telemetry_fresh BOOLEAN, bypass_reason_code VARCHAR,
    build_id VARCHAR, project_id VARCHAR, command VARCHAR, started_at TIMESTAMP, completed_at TIMESTAMP, duration_ms BIGINT,
    location VARCHAR, bytes_transferred BIGINT, cancelled BOOLEAN, cancel_reason VARCHAR,
    heartbeat_phase VARCHAR, heartbeat_age_secs BIGINT, progress_age_secs BIGINT, heartbeat_stale BOOLEAN, progress_stale BOOLEAN,
    slots INTEGER, queued_at TIMESTAMP, queue_position INTEGER, estimated_start TIMESTAMP, wait_time VARCHAR, origin VARCHAR,
    severity VARCHAR, "action" VARCHAR, reason_code VARCHAR, alert_id VARCHAR, kind VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP,
    cleared_at TIMESTAMP, state VARCHAR,
    metric VARCHAR, metric_type VARCHAR, labels MAP(VARCHAR, VARCHAR), "value" DOUBLE
  )'
};

CREATE VIEW rch AS
FROM vc_read_days(getvariable('vc_files_rch'), getvariable('vc_parquet_rch'), vc_rch_columns());
COMMENT ON VIEW rch IS 'Source rch (all history; day = the day it was collected): per run of rch status a run row (exit_code, error_code, daemon, counts, stats, metrics scrape), worker, active_build, queued_build, issue, alert, hint and metric rows; completed builds as build events keyed by rchd''s build id (duplicates included; see v1.rch_builds)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as rch_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_rch_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_rch'), getvariable('vc_recent_parquet_rch'), getvariable('vc_recent_tail_rch'), getvariable('vc_tolerant'), vc_rch_columns());
