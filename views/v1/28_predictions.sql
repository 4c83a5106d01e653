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

-- (v1.rch_queue_predictions is with the rch domain, views/v1/26_rch.sql.)
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
FROM v1.disk_full_predictions;
COMMENT ON VIEW v1.prediction_factors IS 'Forecasts as health factors: disk_full_eta (hours until a filesystem is full); rch''s queue forecast is rch_queue_eta among rch_factors (views/v1/26_rch.sql)';
