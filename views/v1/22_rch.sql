-- rch staging: the rows of each machine's last successful rch run, typed per kind of row, and the
-- completed builds of the recent window once each (the status and the history file both list a
-- build; rchd's id is the key).

CREATE VIEW v1.rch_latest AS
SELECT r.* FROM rch_recent r JOIN last_ok_runs l ON l.source = 'rch' AND r.machine_id = l.machine_id AND r.run_id = l.run_id
WHERE r."type" <> 'build';
COMMENT ON VIEW v1.rch_latest IS 'The snapshot rows of the last successful rch run of each machine: run, worker, active_build, queued_build, issue, alert, hint, metric';

CREATE VIEW v1.rch_daemon AS
SELECT machine_id, collected_at, exit_code, error_code IS NULL AS answered, error_code, error_category,
  message AS error_message, details AS error_details, status_schema, posture, posture_description,
  daemon_pid, daemon_version, daemon_uptime_secs, daemon_started_at, socket_path,
  workers_total, workers_healthy, slots_total, slots_available,
  builds_total, builds_succeeded, builds_failed, builds_remote, builds_local, avg_duration_ms,
  queue_depth, active_count, remediation_overall, convergence_status,
  metrics_url, metrics_error, metrics_samples, metrics_ignored, history_file
FROM rch_latest WHERE "type" = 'run';
COMMENT ON VIEW v1.rch_daemon IS 'Per machine, rch status''s latest answer: answered (false: rch''s error envelope, error_code RCH-E504 when the daemon socket is gone), posture (remote_ready, degraded, local_only; NULL before rch 1.0.11), daemon pid/version/uptime, worker and slot counts, rchd''s build stats (its remembered builds), queue depth, active builds, the /metrics scrape''s outcome and the history file read';

CREATE VIEW v1.rch_workers AS
SELECT machine_id, collected_at, worker_id, host, "user", status, circuit_state, used_slots, total_slots,
  total_slots - used_slots AS free_slots, speed_score, last_error, consecutive_failures, recovery_in_secs,
  checks_recent, checks_failed, pressure_state, pressure_reason_code, pressure_disk_free_gb, pressure_disk_free_ratio,
  pressure_telemetry_fresh, bypass_reason_code,
  -- What rch's posture counts as usable (healthy and not under critical disk pressure), and not
  -- behind an open circuit or quarantined.
  status = 'healthy' AND coalesce(circuit_state, 'closed') <> 'open' AND coalesce(pressure_state, '') <> 'critical'
    AND bypass_reason_code IS NULL AS available
FROM rch_latest WHERE "type" = 'worker';
COMMENT ON VIEW v1.rch_workers IS 'rch''s build workers per machine (latest status): status, circuit, slots used/free, speed score, last error, failed recent health checks, disk pressure, quarantine reason, and whether a build can go there now (available)';

CREATE VIEW v1.rch_active_builds AS
SELECT machine_id, collected_at, build_id, project_id, worker_id, command, started_at,
  seconds_between(started_at, collected_at) AS running_s, heartbeat_phase, heartbeat_age_secs, progress_age_secs,
  heartbeat_stale, progress_stale, slots
FROM rch_latest WHERE "type" = 'active_build';
COMMENT ON VIEW v1.rch_active_builds IS 'Builds running at the latest rch status: worker, command, running time, heartbeat phase and age, and rchd''s stuck detector (heartbeat_stale, progress_stale)';

CREATE VIEW v1.rch_queued_builds AS
SELECT machine_id, collected_at, build_id AS queue_id, project_id, command, queued_at,
  seconds_between(queued_at, collected_at) AS waiting_s, queue_position, slots AS slots_needed, estimated_start, wait_time
FROM rch_latest WHERE "type" = 'queued_build';
COMMENT ON VIEW v1.rch_queued_builds IS 'Builds waiting for a worker at the latest rch status: position, slots needed, how long they have waited';

CREATE VIEW v1.rch_alerts AS
SELECT machine_id, collected_at, alert_id, kind, severity, message, worker_id, first_seen, last_seen, cleared_at, state
FROM rch_latest WHERE "type" = 'alert';
COMMENT ON VIEW v1.rch_alerts IS 'rchd''s own alerts at the latest status (worker_offline, worker_degraded, circuit_open, all_workers_offline), with state active or cleared_pending_clean';

CREATE VIEW v1.rch_hints AS
SELECT machine_id, collected_at, "type" AS source_kind, reason_code, severity, message, worker_id, "action"
FROM rch_latest WHERE "type" IN ('hint', 'issue');
COMMENT ON VIEW v1.rch_hints IS 'What rch says to do at the latest status: the CLI''s remediation hints (source_kind hint: reason_code, severity critical/warning/info, suggested action) and rchd''s issues (source_kind issue: severity error/warning, remediation); action is rch''s command, shown, never run';

CREATE VIEW v1.rch_metrics AS
SELECT machine_id, collected_at, metric, metric_type, labels, labels['worker'] AS worker, "value"
FROM rch_latest WHERE "type" = 'metric';
COMMENT ON VIEW v1.rch_metrics IS 'rchd''s Prometheus samples of the latest scrape (where a metrics URL is configured): name, type, labels, value. Families rchd never updates are not stored; of histograms only _sum and _count. rch_worker_status is 1 healthy, 2 degraded or draining, 0 down (its status label is always "current")';

-- rchd counts a test command that ran but failed (cargo test's 101, a signal) as a build that
-- succeeded; only exit 1 is a failed build for those (rchd/src/history.rs). Cancelled builds are
-- neither.
CREATE MACRO vc_rch_build_failed(command, exit_code, cancelled) AS
  NOT coalesce(cancelled, false) AND exit_code <> 0
  AND NOT (exit_code <> 1 AND regexp_matches(command, '(^|[\s;&|(])(cargo(\s+\+\S+)?\s+(test|nextest|bench)|bun\s+test|go\s+test)(\s|$)'));

CREATE VIEW v1.rch_builds AS
SELECT machine_id, build_id, project_id, worker_id, command, started_at, completed_at, exit_code, duration_ms, location,
  bytes_transferred, cancelled, cancel_reason, origin, collected_at, vc_rch_build_failed(command, exit_code, cancelled) AS failed
FROM rch_recent WHERE "type" = 'build'
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC, origin DESC) = 1;
COMMENT ON VIEW v1.rch_builds IS 'Completed builds read in the recent window (from rch status and rchd''s history file), once each: project, worker, command, exit code, duration, location (remote, or local fallback), cancelled, and failed (as rchd counts it: a test command''s failing tests are no failed build)';
