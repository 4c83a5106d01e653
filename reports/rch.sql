-- Remote compilation (rch) across the fleet: what needs attention, each machine's daemon and
-- workers, builds running and queued, recent failed builds, rchd's alerts and rch's hints, local
-- fallbacks by reason (from /metrics where scraped).

-- name: attention
SELECT f.machine_id, f.factor_id, grade(f.value, t.warn, t.crit, t.higher_is_worse) AS severity, f.value, t.unit,
  f.title, f.summary, f.next, f.fix
FROM v1.rch_factors f JOIN v1.health_thresholds t USING (factor_id)
WHERE grade(f.value, t.warn, t.crit, t.higher_is_worse) IN ('warn', 'crit')
ORDER BY severity_rank(grade(f.value, t.warn, t.crit, t.higher_is_worse)) DESC, f.machine_id, f.factor_id;

-- name: machines
SELECT machine_id, collected_at, answered, error_code, error, down_since, posture, daemon_version, daemon_uptime_secs,
  workers_total, workers_healthy, workers_available, slots_total, slots_available, queue_depth, oldest_queued_s, active_count,
  builds_recent, failed_recent, cancelled_recent, local_recent, failure_pct, last_build_at, alerts_active, hints_critical,
  top_hint, top_action, metrics_url, metrics_error, history_file
FROM v1.rch_machines
ORDER BY answered, machine_id;

-- name: workers
SELECT machine_id, worker_id, host, status, circuit_state, available, used_slots, total_slots, speed_score,
  consecutive_failures, checks_failed, checks_recent, pressure_state, pressure_disk_free_gb, bypass_reason_code, last_error
FROM v1.rch_workers
ORDER BY available, machine_id, worker_id;

-- name: active
SELECT machine_id, build_id, worker_id, project_id, command, started_at, running_s, heartbeat_phase, heartbeat_age_secs,
  heartbeat_stale, progress_stale, slots
FROM v1.rch_active_builds
ORDER BY running_s DESC NULLS LAST, machine_id;

-- name: queued
SELECT machine_id, queue_id, queue_position, project_id, command, queued_at, waiting_s, slots_needed, wait_time
FROM v1.rch_queued_builds
ORDER BY machine_id, queue_position;

-- name: failures
SELECT machine_id, build_id, completed_at, worker_id, location, exit_code, duration_ms, project_id, command
FROM v1.rch_builds
WHERE failed AND completed_at > vc_recent_since() AND completed_at <= vc_now()
ORDER BY completed_at DESC
LIMIT 30;

-- name: alerts
SELECT machine_id, alert_id, kind, severity, worker_id, message, first_seen, last_seen
FROM v1.rch_alerts WHERE state = 'active'
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END, machine_id, first_seen;

-- name: hints
SELECT machine_id, source_kind, severity, reason_code, worker_id, message, "action"
FROM v1.rch_hints
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END, machine_id, reason_code;

-- name: fallbacks
SELECT machine_id, labels['reason'] AS reason, "value" AS builds
FROM v1.rch_metrics
WHERE metric = 'rch_local_fallback_reason_total' AND "value" > 0
ORDER BY machine_id, "value" DESC;
