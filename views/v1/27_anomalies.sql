-- Anomalies: each machine's metrics against its own recent baseline, robustly. The baseline is
-- the median of the recent window before the last 10 minutes, its spread the MAD (scaled by
-- 1.4826 to match a standard deviation), floored per metric; the score is the robust z of the
-- last 10 minutes' median. Robust: a few earlier spikes move neither median nor MAD, so they neither hide a new
-- one nor raise false ones. (Baselines by hour of day need longer history than the recent window.)

CREATE VIEW v1.metric_samples AS
SELECT machine_id, collected_at, 'load_per_core' AS metric, load5 / nullif(cpu_count, 0) AS value FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'cpu_util', cpu_util FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'memory_used_pct', 100.0 * (1 - mem_available_bytes / nullif(mem_total_bytes, 0)) FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'processes', process_count FROM sys_recent;
COMMENT ON VIEW v1.metric_samples IS 'Every sample of the metrics anomalies are scored on (load per core, CPU use, memory used %, process count), per machine, in the recent window';

CREATE VIEW v1.anomalies AS
WITH s AS (
  FROM v1.metric_samples WHERE value IS NOT NULL AND collected_at >= vc_recent_since()
),
base AS (
  SELECT machine_id, metric, median(value) AS baseline, count(*) AS samples
  FROM s WHERE collected_at <= vc_now() - INTERVAL 10 MINUTE GROUP BY ALL HAVING count(*) >= 30
),
spread AS (
  SELECT s.machine_id, s.metric, 1.4826 * median(abs(s.value - b.baseline)) AS mad
  FROM s JOIN base b USING (machine_id, metric) WHERE s.collected_at <= vc_now() - INTERVAL 10 MINUTE GROUP BY ALL
),
latest AS (
  SELECT machine_id, metric, median(value) AS recent, count(*) AS recent_samples
  FROM s WHERE collected_at > vc_now() - INTERVAL 10 MINUTE GROUP BY ALL
)
SELECT l.machine_id, l.metric, round(l.recent, 3) AS value, round(b.baseline, 3) AS baseline, round(d.mad, 3) AS mad,
  -- The spread has a floor per metric: a smooth curve (a daily load cycle) has a tiny MAD, and
  -- a move that matters to no one (0.1 load per core, 2 points of memory) must not score high.
  round((l.recent - b.baseline) / greatest(d.mad, CASE l.metric WHEN 'load_per_core' THEN 0.25 WHEN 'cpu_util' THEN 0.1
    WHEN 'memory_used_pct' THEN 5 ELSE greatest(abs(b.baseline) * 0.05, 5) END), 1) AS z,
  b.samples AS baseline_samples, l.recent_samples
FROM latest l JOIN base b USING (machine_id, metric) JOIN spread d USING (machine_id, metric);
COMMENT ON VIEW v1.anomalies IS 'Per machine and metric: the last 10 minutes'' median against the recent baseline (median, MAD), as a robust z score; positive is above the baseline';

-- As health factors: how far above its own baseline a metric is (only upward moves matter here).
CREATE VIEW v1.anomaly_factors AS
SELECT machine_id, 'anomaly' AS factor_id, metric AS subject, greatest(z, 0) AS value,
  format('{} is {} against its usual {} (robust z {}, over {} samples)', metric, value, baseline, z, baseline_samples) AS summary,
  to_json({metric: metric, value: value, baseline: baseline, mad: mad, z: z, baseline_samples: baseline_samples, recent_samples: recent_samples}) AS evidence,
  format('{}: {} unusually high ({} vs {} usual)', machine_id, metric, value, baseline) AS title,
  [vc_query_cmd(machine_id, 'metric, value, baseline, mad, z', 'anomalies', ' ORDER BY z DESC'),
   vc_query_cmd(machine_id, 'pid, comm, cpu_pct, rss_bytes, age_s, args', 'latest_processes', ' ORDER BY cpu_pct DESC LIMIT 10')] AS next
FROM v1.anomalies;
COMMENT ON VIEW v1.anomaly_factors IS 'Anomalies as health factors: a metric''s robust z above its own recent baseline';
