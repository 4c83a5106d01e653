-- Anomalies: each machine's metrics against its own baseline, robustly. The baseline is the
-- median of the recent window before the last 10 minutes, its spread the MAD (scaled by 1.4826 to
-- match a standard deviation), floored per metric; the score is the robust z of the last 10
-- minutes' median. Robust: a few earlier spikes move neither median nor MAD, so they neither hide
-- a new one nor raise false ones. Metrics with a daily rhythm (load, CPU) are scored against their
-- usual level at this hour of day instead, where the rollups hold enough days of it: a nightly
-- build at its usual hour is no anomaly, the same load at an unusual hour is.

CREATE VIEW v1.metric_samples AS
SELECT machine_id, collected_at, 'load_per_core' AS metric, load5 / nullif(cpu_count, 0) AS value FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'cpu_util', cpu_util FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'memory_used_pct', 100.0 * (1 - mem_available_bytes / nullif(mem_total_bytes, 0)) FROM sys_recent
UNION ALL SELECT machine_id, collected_at, 'processes', process_count FROM sys_recent;
COMMENT ON VIEW v1.metric_samples IS 'Every sample of the metrics anomalies are scored on (load per core, CPU use, memory used %, process count), per machine, in the recent window';

-- Per machine, metric and hour of day (UTC): the median and MAD over the last 14 days before
-- today of that hour's average. Read from the stored rollups alone (closed days vc compact rolled
-- up), never from samples: this runs on every triage, and over a store never compacted it is
-- empty (the anomalies then keep the recent baseline).
CREATE VIEW v1.hourly_baselines AS
SELECT machine_id, metric, hour(hour) AS hour_of_day, count(*) AS days, sum(samples) AS samples,
  median(avg) AS baseline, 1.4826 * mad(avg) AS mad
FROM vc_sys_hourly_stored()
WHERE day >= vc_now()::DATE - 14 AND day < vc_now()::DATE
GROUP BY ALL;
COMMENT ON VIEW v1.hourly_baselines IS 'Per machine, metric (as in sys_hourly) and UTC hour of day: how many of the last 14 days (before today) the stored rollups have, their samples, and the median and MAD (x1.4826) of that hour''s average: the usual level at that hour';

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
),
-- The rhythm metrics' usual level in the hour of the last 10 minutes and in the hour on each side
-- (a job that starts a little earlier or later than usual is still usual), where at least 7 of
-- the 14 days have it: of those, the one the value is most usual for (the smallest |z|). The
-- hours are constants, so only their rollup rows are aggregated.
by_hour AS (
  SELECT machine_id, CASE metric WHEN 'load5_per_core' THEN 'load_per_core' ELSE metric END AS metric,
    hour_of_day, days, samples, baseline, mad
  FROM v1.hourly_baselines
  WHERE metric IN ('load5_per_core', 'cpu_util') AND days >= 7
    AND hour_of_day IN (hour(vc_now() - INTERVAL 65 MINUTE), hour(vc_now() - INTERVAL 5 MINUTE), hour(vc_now() + INTERVAL 55 MINUTE))
),
scored AS (
  SELECT l.machine_id, l.metric, l.recent, l.recent_samples,
    CASE WHEN h.machine_id IS NULL THEN 'recent' ELSE 'hour_of_day' END AS baseline_kind, h.hour_of_day AS baseline_hour,
    h.days AS baseline_days, coalesce(h.baseline, b.baseline) AS baseline, CASE WHEN h.machine_id IS NULL THEN d.mad ELSE h.mad END AS mad,
    coalesce(h.samples, b.samples) AS baseline_samples
  FROM latest l
  LEFT JOIN by_hour h USING (machine_id, metric)
  LEFT JOIN base b USING (machine_id, metric)
  LEFT JOIN spread d USING (machine_id, metric)
  WHERE h.machine_id IS NOT NULL OR b.machine_id IS NOT NULL
),
graded AS (
  -- The spread has a floor per metric: a smooth curve (a daily load cycle) has a tiny MAD, and
  -- a move that matters to no one (0.1 load per core, 2 points of memory) must not score high.
  SELECT *, (recent - baseline) / greatest(mad, CASE metric WHEN 'load_per_core' THEN 0.25 WHEN 'cpu_util' THEN 0.1
    WHEN 'memory_used_pct' THEN 5 ELSE greatest(abs(baseline) * 0.05, 5) END) AS score
  FROM scored
)
SELECT machine_id, metric, round(recent, 3) AS value, round(baseline, 3) AS baseline, round(mad, 3) AS mad, round(score, 1) AS z,
  baseline_samples, recent_samples, baseline_kind, baseline_hour, baseline_days
FROM graded
QUALIFY row_number() OVER (PARTITION BY machine_id, metric ORDER BY abs(score), baseline_hour) = 1;
COMMENT ON VIEW v1.anomalies IS 'Per machine and metric: the last 10 minutes'' median against its baseline (median, MAD) as a robust z score, positive above it; baseline_kind hour_of_day (load, CPU: the usual level at that UTC hour, baseline_hour, over baseline_days of the stored rollups) or recent (the recent window)';

-- As health factors: how far above its own baseline a metric is (only upward moves matter here).
CREATE VIEW v1.anomaly_factors AS
SELECT machine_id, 'anomaly' AS factor_id, metric AS subject, greatest(z, 0) AS value,
  CASE baseline_kind WHEN 'hour_of_day'
    THEN format('{} is {} against its usual {} at {}:00 UTC (robust z {}, over {} days)', metric, value, baseline, lpad(baseline_hour::VARCHAR, 2, '0'), z, baseline_days)
    ELSE format('{} is {} against its usual {} (robust z {}, over {} samples)', metric, value, baseline, z, baseline_samples) END AS summary,
  to_json({metric: metric, value: value, baseline: baseline, mad: mad, z: z, baseline_samples: baseline_samples, recent_samples: recent_samples,
    baseline_kind: baseline_kind, baseline_hour: baseline_hour, baseline_days: baseline_days}) AS evidence,
  format('{}: {} unusually high ({} vs {} usual)', machine_id, metric, value, baseline) AS title,
  [vc_query_cmd(machine_id, 'metric, value, baseline, mad, z', 'anomalies', ' ORDER BY z DESC'),
   vc_query_cmd(machine_id, 'pid, comm, cpu_pct, rss_bytes, age_s, args', 'latest_processes', ' ORDER BY cpu_pct DESC LIMIT 10')] AS next
FROM v1.anomalies;
COMMENT ON VIEW v1.anomaly_factors IS 'Anomalies as health factors: a metric''s robust z above its own baseline (at this hour of day, or recent)';
