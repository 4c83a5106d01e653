-- The rch domain: per machine, is remote compilation working (daemon answering, workers
-- available, queue, builds failing), and its health factors with triage's words.

-- Fewer completed builds than this in the recent window say nothing about a failure rate.
CREATE MACRO vc_rch_min_builds() AS 5;

CREATE VIEW v1.rch_machines AS
WITH runs AS (
  SELECT machine_id, collected_at, error_code IS NULL AS answered FROM rch_recent WHERE "type" = 'run'
), answers AS (
  SELECT machine_id, max(collected_at) FILTER (WHERE answered) AS answered_at FROM runs GROUP BY machine_id
), down AS (
  -- Since the first status after the last one that reached rchd (within the recent window).
  SELECT r.machine_id, min(r.collected_at) AS down_since
  FROM runs r LEFT JOIN answers a USING (machine_id)
  WHERE NOT r.answered AND (a.answered_at IS NULL OR r.collected_at > a.answered_at)
  GROUP BY r.machine_id
), workers AS (
  SELECT machine_id, count(*) FILTER (WHERE available) AS workers_available,
    sum(free_slots) FILTER (WHERE available) AS free_slots_available,
    string_agg(format('{} {}{}', worker_id, status, CASE WHEN circuit_state = 'open' THEN ', circuit open' ELSE '' END), '; ' ORDER BY worker_id) AS worker_states
  FROM v1.rch_workers GROUP BY machine_id
), queued AS (
  SELECT machine_id, max(waiting_s) AS oldest_queued_s FROM v1.rch_queued_builds GROUP BY machine_id
), builds AS (
  SELECT machine_id, count(*) AS builds_recent, count(*) FILTER (WHERE failed) AS failed_recent,
    count(*) FILTER (WHERE cancelled) AS cancelled_recent, count(*) FILTER (WHERE location = 'local') AS local_recent,
    max(completed_at) AS last_build_at,
    arg_max({command: command, exit_code: exit_code, worker_id: worker_id, completed_at: completed_at}, completed_at) FILTER (WHERE failed) AS last_failure
  FROM v1.rch_builds WHERE completed_at > vc_recent_since() AND completed_at <= vc_now() GROUP BY machine_id
), alerts AS (
  SELECT machine_id, count(*) FILTER (WHERE state = 'active') AS alerts_active FROM v1.rch_alerts GROUP BY machine_id
), hints AS (
  -- rch's most severe hint with an action: what rch itself says to run.
  SELECT machine_id, count(*) FILTER (WHERE severity = 'critical') AS hints_critical,
    arg_max(message, CASE severity WHEN 'critical' THEN 3 WHEN 'error' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END) AS top_hint,
    arg_max("action", CASE severity WHEN 'critical' THEN 3 WHEN 'error' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END) FILTER (WHERE "action" IS NOT NULL) AS top_action
  FROM v1.rch_hints GROUP BY machine_id
)
SELECT d.machine_id, d.collected_at, d.answered, d.error_code, coalesce(d.error_details, d.error_message) AS error,
  CASE WHEN NOT d.answered THEN coalesce(n.down_since, d.collected_at) END AS down_since, a.answered_at,
  d.posture, d.daemon_version, d.daemon_uptime_secs, d.workers_total, d.workers_healthy,
  CASE WHEN d.answered THEN coalesce(w.workers_available, 0) END AS workers_available, w.worker_states,
  d.slots_total, d.slots_available, w.free_slots_available, d.queue_depth, q.oldest_queued_s, d.active_count,
  coalesce(b.builds_recent, 0) AS builds_recent, coalesce(b.failed_recent, 0) AS failed_recent,
  coalesce(b.cancelled_recent, 0) AS cancelled_recent, coalesce(b.local_recent, 0) AS local_recent,
  pct(b.failed_recent, b.builds_recent - b.cancelled_recent) AS failure_pct, b.last_build_at, b.last_failure,
  coalesce(al.alerts_active, 0) AS alerts_active, coalesce(h.hints_critical, 0) AS hints_critical, h.top_hint, h.top_action,
  d.metrics_url, d.metrics_error, d.history_file
FROM v1.rch_daemon d
LEFT JOIN answers a USING (machine_id)
LEFT JOIN down n USING (machine_id)
LEFT JOIN workers w USING (machine_id)
LEFT JOIN queued q USING (machine_id)
LEFT JOIN builds b USING (machine_id)
LEFT JOIN alerts al USING (machine_id)
LEFT JOIN hints h USING (machine_id);
COMMENT ON VIEW v1.rch_machines IS 'Remote compilation per machine: whether rch reached its daemon (and since when not), posture, workers available now, slots, queue depth and oldest wait, active builds, builds completed in the recent window with failures (failure_pct over builds not cancelled) and local fallbacks, rchd''s active alerts, rch''s most severe hint and its suggested command (top_action)';

-- rch queue growth: the build queue depth of each machine's rch status against time. A queue
-- moves in minutes, so only the last vc_rch_queue_fit_minutes() count, and only since rchd last
-- started (it keeps its queue in memory: a restart empties it, so what came before is another
-- series; its uptime falling or its pid changing says so, as started_at jitters by a second).
-- Forecast: when the queue reaches the crit threshold of rch_queue_depth, within 2 hours.
CREATE MACRO vc_rch_queue_fit_minutes() AS 30;

CREATE VIEW v1.rch_queue_predictions AS
WITH runs AS (
  SELECT machine_id, collected_at, queue_depth,
    coalesce(daemon_uptime_secs < lag(daemon_uptime_secs) OVER w OR daemon_pid <> lag(daemon_pid) OVER w, false) AS restarted
  FROM rch_recent
  WHERE "type" = 'run' AND error_code IS NULL AND queue_depth IS NOT NULL
    AND collected_at > vc_now() - to_minutes(vc_rch_queue_fit_minutes())
  WINDOW w AS (PARTITION BY machine_id ORDER BY collected_at)
),
since AS (
  SELECT machine_id, max(collected_at) FILTER (WHERE restarted) AS restarted_at FROM runs GROUP BY machine_id
),
fit AS (
  SELECT r.machine_id,
    regr_slope(r.queue_depth, epoch(r.collected_at)) * 3600 AS builds_per_hour,
    regr_r2(r.queue_depth, epoch(r.collected_at)) AS r2,
    count(*) AS samples, min(r.collected_at) AS fitted_from, max(r.collected_at) AS fitted_to,
    arg_max(r.queue_depth, r.collected_at) AS queue_depth, any_value(s.restarted_at) AS restarted_at
  FROM runs r JOIN since s USING (machine_id)
  WHERE s.restarted_at IS NULL OR r.collected_at >= s.restarted_at
  GROUP BY r.machine_id
  HAVING count(*) >= 5 AND max(r.collected_at) - min(r.collected_at) >= INTERVAL 10 MINUTE
),
-- Depths are whole builds: the first one graded crit.
target AS (SELECT CAST(ceil(crit) AS BIGINT) AS crit FROM v1.health_thresholds WHERE factor_id = 'rch_queue_depth')
SELECT fit.machine_id, 'rch_queue' AS kind, 'queue' AS subject,
  fitted_to + to_seconds(CAST((t.crit - fit.queue_depth) / builds_per_hour * 3600 AS BIGINT)) AS eta,
  round((t.crit - fit.queue_depth) / builds_per_hour, 2) AS hours_left,
  round(r2, 2) AS confidence,
  INTERVAL 2 HOUR AS horizon,
  to_json({queue_depth: fit.queue_depth, target_depth: t.crit, builds_per_hour: round(builds_per_hour, 1),
    samples: samples, fitted_from: fitted_from, fitted_to: fitted_to, daemon_restarted_at: restarted_at}) AS evidence
FROM fit CROSS JOIN target t
-- Only while rchd answers: the fit must end at the machine's latest status (a daemon that went
-- down is rch_daemon_down, and its last queue is no forecast).
JOIN v1.rch_daemon d ON d.machine_id = fit.machine_id AND d.answered AND d.collected_at = fit.fitted_to
WHERE builds_per_hour > 0 AND r2 >= 0.5 AND fit.queue_depth < t.crit AND (t.crit - fit.queue_depth) / builds_per_hour <= 2;
COMMENT ON VIEW v1.rch_queue_predictions IS 'rch build queues that will reach the rch_queue_depth crit threshold within 2 hours if their growth holds: least squares over the last 30 minutes since rchd last started, eta, hours_left, confidence (R²), evidence (depth now, builds per hour, samples)';

CREATE VIEW v1.rch_factors AS
WITH m AS (FROM v1.rch_machines),
down AS (
  SELECT machine_id, 'rch_daemon_down' AS factor_id, round(seconds_between(down_since, vc_now()) / 60) AS value,
    format('rch status has not reached rchd since {} UTC ({}): {}', strftime(down_since, '%Y-%m-%d %H:%M'),
      coalesce(error_code, 'no code'), coalesce(error, 'no details')) AS summary,
    to_json({error_code: error_code, error: error, down_since: down_since, last_answered_at: answered_at}) AS evidence,
    format('{}: rch daemon not answering ({})', machine_id, coalesce(error_code, 'error')) AS title,
    ['vc report rch --md', vc_query_cmd(machine_id, 'collected_at, error_code, error, down_since', 'rch_machines', '')] AS next,
    'rch daemon start' AS fix
  FROM m WHERE NOT answered
),
queue AS (
  SELECT machine_id, 'rch_queue_depth' AS factor_id, queue_depth AS value,
    format('{} build{} waiting for a worker{}; {} of {} workers available, {} builds active', queue_depth, CASE WHEN queue_depth = 1 THEN '' ELSE 's' END,
      CASE WHEN oldest_queued_s IS NOT NULL THEN format(', the oldest for {}', human_age(oldest_queued_s)) ELSE '' END,
      workers_available, workers_total, active_count) AS summary,
    to_json({queue_depth: queue_depth, oldest_queued_s: oldest_queued_s, workers_available: workers_available,
      workers_total: workers_total, active_builds: active_count, sampled_at: collected_at}) AS evidence,
    format('{}: {} builds queued in rch', machine_id, queue_depth) AS title,
    ['vc report rch --md', vc_query_cmd(machine_id, 'queue_position, command, waiting_s, slots_needed', 'rch_queued_builds', ' ORDER BY queue_position')] AS next,
    top_action AS fix
  FROM m WHERE answered AND queue_depth IS NOT NULL
),
no_worker AS (
  SELECT machine_id, 'rch_no_worker' AS factor_id,
    CASE WHEN workers_available = 0 THEN coalesce(active_count, 0) + coalesce(queue_depth, 0) ELSE 0 END AS value,
    format('{} builds active and {} queued; {} of {} workers available ({})', coalesce(active_count, 0), coalesce(queue_depth, 0),
      workers_available, coalesce(workers_total, 0), coalesce(worker_states, 'no workers configured')) AS summary,
    to_json({active_builds: active_count, queue_depth: queue_depth, workers_available: workers_available, workers_total: workers_total,
      workers: worker_states, posture: posture, top_hint: top_hint, sampled_at: collected_at}) AS evidence,
    format('{}: no rch worker available for {} builds', machine_id, coalesce(active_count, 0) + coalesce(queue_depth, 0)) AS title,
    ['vc report rch --md', vc_query_cmd(machine_id, 'worker_id, status, circuit_state, pressure_state, last_error, available', 'rch_workers', ' ORDER BY worker_id')] AS next,
    coalesce(top_action, 'rch workers probe --all') AS fix
  FROM m WHERE answered AND coalesce(active_count, 0) + coalesce(queue_depth, 0) > 0
),
growth AS (
  -- The queue forecast (rch_queue_predictions): minutes until it reaches its crit depth.
  SELECT p.machine_id, 'rch_queue_eta' AS factor_id, round(p.hours_left * 60) AS value,
    format('{} builds queued, growing by {} an hour over the last {} (confidence {}): {} in about {}',
      p.evidence->>'queue_depth', p.evidence->>'builds_per_hour',
      human_age(epoch(CAST(p.evidence->>'fitted_to' AS TIMESTAMP) - CAST(p.evidence->>'fitted_from' AS TIMESTAMP))), p.confidence,
      p.evidence->>'target_depth', human_age(greatest(epoch(p.eta - vc_now()), 0))) AS summary,
    p.evidence,
    format('{}: rch queue reaches {} builds in ~{}', p.machine_id, p.evidence->>'target_depth', human_age(greatest(epoch(p.eta - vc_now()), 0))) AS title,
    ['vc report rch --md', vc_query_cmd(p.machine_id, 'kind, subject, eta, hours_left, confidence', 'predictions', '')] AS next,
    -- What rch itself suggests (capacity back); none when it has no advice.
    m.top_action AS fix
  FROM v1.rch_queue_predictions p JOIN m USING (machine_id)
),
failures AS (
  SELECT machine_id, 'rch_build_failures' AS factor_id, failure_pct AS value,
    format('{} of {} builds failed in the last {} h ({}%){}', failed_recent, builds_recent - cancelled_recent, getvariable('vc_recent_hours'), failure_pct,
      CASE WHEN last_failure IS NOT NULL THEN format('; the last: {} (exit {}) on {}', last_failure.command, last_failure.exit_code,
        coalesce(last_failure.worker_id, 'this machine')) ELSE '' END) AS summary,
    to_json({builds: builds_recent, failed: failed_recent, cancelled: cancelled_recent, local_fallbacks: local_recent,
      since: vc_recent_since(), last_failure: last_failure}) AS evidence,
    format('{}: {}% of rch builds failing', machine_id, failure_pct) AS title,
    ['vc report rch --md', vc_query_cmd(machine_id, 'completed_at, worker_id, exit_code, duration_ms, command', 'rch_builds', ' AND failed ORDER BY completed_at DESC LIMIT 20')] AS next
  FROM m WHERE builds_recent - cancelled_recent >= vc_rch_min_builds()
)
FROM down UNION ALL BY NAME FROM queue UNION ALL BY NAME FROM growth UNION ALL BY NAME FROM no_worker UNION ALL BY NAME FROM failures;
COMMENT ON VIEW v1.rch_factors IS 'rch health factors per machine: rch_daemon_down (minutes rch status has not reached rchd; fix rch daemon start), rch_queue_depth (builds queued), rch_queue_eta (minutes until the queue reaches its crit depth, if its growth holds), rch_no_worker (builds active or queued while no worker is available; fix rch''s own suggested command), rch_build_failures (failed % of the recent window''s builds, from vc_rch_min_builds() builds), with triage titles and next commands';
