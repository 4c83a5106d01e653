-- Forecasts, each with its horizon and a confidence: what will run out, and when, if the recent
-- trend holds. A straight line fitted to the recent window (least squares), confidence its R²,
-- only where the trend points at running out within the horizon and enough samples agree.

-- Disk full: the free bytes of each filesystem against time over the recent window.
CREATE VIEW v1.disk_full_predictions AS
WITH fs AS (
  SELECT machine_id, collected_at, f.mount, f.size_bytes, f.avail_bytes
  FROM (SELECT machine_id, collected_at, unnest(filesystems) AS f FROM sys_recent WHERE collected_at >= vc_recent_since())
),
fit AS (
  SELECT machine_id, mount,
    regr_slope(avail_bytes, epoch(collected_at)) AS slope_bytes_per_s,
    regr_r2(avail_bytes, epoch(collected_at)) AS r2,
    count(*) AS samples, min(collected_at) AS fitted_from, max(collected_at) AS fitted_to,
    arg_max(avail_bytes, collected_at) AS avail_bytes, arg_max(size_bytes, collected_at) AS size_bytes
  FROM fs GROUP BY machine_id, mount
  HAVING count(*) >= 6 AND max(collected_at) - min(collected_at) >= INTERVAL 30 MINUTE
)
SELECT machine_id, 'disk_full' AS kind, mount AS subject,
  fitted_to + to_seconds(CAST(avail_bytes / -slope_bytes_per_s AS BIGINT)) AS eta,
  round(avail_bytes / -slope_bytes_per_s / 3600, 1) AS hours_left,
  round(r2, 2) AS confidence,
  INTERVAL 7 DAY AS horizon,
  to_json({avail_bytes: avail_bytes, size_bytes: size_bytes, bytes_per_hour: round(-slope_bytes_per_s * 3600),
    samples: samples, fitted_from: fitted_from, fitted_to: fitted_to}) AS evidence
FROM fit
WHERE slope_bytes_per_s < 0 AND r2 >= 0.5 AND avail_bytes / -slope_bytes_per_s <= 7 * 86400;
COMMENT ON VIEW v1.disk_full_predictions IS 'Filesystems that will fill within 7 days if the recent trend holds: eta, hours_left, confidence (R² of the fit over the recent window), evidence (free bytes, bytes per hour, samples)';

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

CREATE VIEW v1.predictions AS
FROM v1.disk_full_predictions
UNION ALL BY NAME FROM v1.rch_queue_predictions;
COMMENT ON VIEW v1.predictions IS 'Every forecast: kind (disk_full: a filesystem by mount; rch_queue: rch''s build queue reaching its crit depth), machine, subject, eta, hours_left, confidence (0-1), horizon, evidence';

-- As health factors: hours until full (lower is worse), shown by triage with its own words.
CREATE VIEW v1.prediction_factors AS
SELECT machine_id, 'disk_full_eta' AS factor_id, subject, hours_left AS value,
  format('{} fills in about {} at {}/h (trend of the last {} h, confidence {})', subject, human_age(greatest(epoch(eta - vc_now()), 0)),
    format_bytes((evidence->>'bytes_per_hour')::DOUBLE::BIGINT), round(epoch(CAST(evidence->>'fitted_to' AS TIMESTAMP) - CAST(evidence->>'fitted_from' AS TIMESTAMP)) / 3600, 1), confidence) AS summary,
  evidence,
  format('{}: {} full in ~{}', machine_id, subject, human_age(greatest(epoch(eta - vc_now()), 0))) AS title,
  [vc_query_cmd(machine_id, 'mount, used_pct, avail_bytes, size_bytes', 'machine_filesystems', ' ORDER BY used_pct DESC'),
   vc_query_cmd(machine_id, 'kind, subject, eta, hours_left, confidence', 'predictions', '')] AS next,
  -- The mount point is free text: single-quoted for sh.
  format('du -xh --max-depth=2 ''{}'' | sort -h | tail -20', replace(subject, '''', '''\''''')) AS fix
FROM v1.disk_full_predictions
UNION ALL BY NAME
SELECT p.machine_id, 'rch_queue_eta' AS factor_id, NULL::VARCHAR AS subject, round(p.hours_left * 60) AS value,
  format('{} builds queued, growing by {} an hour over the last {} (confidence {}): {} in about {}',
    p.evidence->>'queue_depth', p.evidence->>'builds_per_hour',
    human_age(epoch(CAST(p.evidence->>'fitted_to' AS TIMESTAMP) - CAST(p.evidence->>'fitted_from' AS TIMESTAMP))), p.confidence,
    p.evidence->>'target_depth', human_age(greatest(epoch(p.eta - vc_now()), 0))) AS summary,
  p.evidence,
  format('{}: rch queue reaches {} builds in ~{}', p.machine_id, p.evidence->>'target_depth', human_age(greatest(epoch(p.eta - vc_now()), 0))) AS title,
  ['vc report rch --md', vc_query_cmd(p.machine_id, 'kind, subject, eta, hours_left, confidence', 'predictions', '')] AS next,
  -- What rch itself suggests (more capacity back); none when it has no advice.
  m.top_action AS fix
FROM v1.rch_queue_predictions p LEFT JOIN v1.rch_machines m USING (machine_id);
COMMENT ON VIEW v1.prediction_factors IS 'Forecasts as health factors: disk_full_eta (hours until a filesystem is full), rch_queue_eta (minutes until rch''s build queue reaches its crit depth)';
