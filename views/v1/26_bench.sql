-- Bench drift: each benchmarked host's latest overall score against its own baseline, the median
-- of its earlier runs in the 30 days before. The overall score is min-max normalised across the
-- hosts of a batch, so a drop can also mean the others got faster: the raw subscores are set
-- beside their own medians to tell which.

CREATE VIEW v1.bench_drift AS
WITH runs AS (
  FROM v1.cloud_bench_scores WHERE ts <= vc_now() AND overall_score IS NOT NULL
), latest AS (
  FROM runs QUALIFY row_number() OVER (PARTITION BY machine_id, hostname ORDER BY ts DESC) = 1
), base AS (
  SELECT r.machine_id, r.hostname, count(*) AS baseline_runs, min(r.ts) AS baseline_from,
    median(r.overall_score) AS baseline_score, median(r.cpu_events_per_s) AS cpu_events_per_s,
    median(r.fileio_reads_per_s) AS fileio_reads_per_s, median(r.memory_mib_transferred) AS memory_mib_transferred,
    median(r.mutex_avg_latency_ms) AS mutex_avg_latency_ms, median(r.threads_avg_latency_ms) AS threads_avg_latency_ms
  FROM runs r JOIN latest l ON l.machine_id = r.machine_id AND l.hostname IS NOT DISTINCT FROM r.hostname
  WHERE r.ts < l.ts AND r.ts >= l.ts - INTERVAL 30 DAY
  GROUP BY ALL
)
SELECT l.machine_id, l.hostname, l.store_machine_id, l.ts AS latest_at, l.overall_score AS latest_score,
  b.baseline_score, coalesce(b.baseline_runs, 0) AS baseline_runs, b.baseline_from,
  round(b.baseline_score - l.overall_score, 1) AS drop_points,
  l.cpu_events_per_s, b.cpu_events_per_s AS baseline_cpu_events_per_s,
  l.fileio_reads_per_s, b.fileio_reads_per_s AS baseline_fileio_reads_per_s,
  l.memory_mib_transferred, b.memory_mib_transferred AS baseline_memory_mib_transferred,
  l.mutex_avg_latency_ms, b.mutex_avg_latency_ms AS baseline_mutex_avg_latency_ms,
  l.threads_avg_latency_ms, b.threads_avg_latency_ms AS baseline_threads_avg_latency_ms
FROM latest l LEFT JOIN base b ON b.machine_id = l.machine_id AND b.hostname IS NOT DISTINCT FROM l.hostname;
COMMENT ON VIEW v1.bench_drift IS 'Per benchmarked host: its latest overall score, the median of its earlier runs in the 30 days before (baseline_score, baseline_runs), the drop in points, and each raw subscore beside its own median';

CREATE VIEW v1.bench_factors AS
SELECT machine_id, 'bench_drift' AS factor_id, hostname AS subject, drop_points AS value,
  format('{} scored {} in its benchmark of {} UTC, {} points {} the median {} of its {} earlier runs; cpu {} events/s (median {}), memory {} MiB (median {}), fileio {} reads/s (median {})',
    hostname, latest_score, strftime(latest_at, '%Y-%m-%d %H:%M'), abs(drop_points), CASE WHEN drop_points >= 0 THEN 'under' ELSE 'over' END,
    baseline_score, baseline_runs, round(cpu_events_per_s, 1), round(baseline_cpu_events_per_s, 1),
    round(memory_mib_transferred, 1), round(baseline_memory_mib_transferred, 1),
    round(fileio_reads_per_s, 1), round(baseline_fileio_reads_per_s, 1)) AS summary,
  to_json({hostname: hostname, latest_at: latest_at, latest_score: latest_score, baseline_score: baseline_score,
    baseline_runs: baseline_runs, baseline_from: baseline_from, store_machine_id: store_machine_id,
    raw: {cpu_events_per_s: [cpu_events_per_s, baseline_cpu_events_per_s], fileio_reads_per_s: [fileio_reads_per_s, baseline_fileio_reads_per_s],
      memory_mib_transferred: [memory_mib_transferred, baseline_memory_mib_transferred],
      mutex_avg_latency_ms: [mutex_avg_latency_ms, baseline_mutex_avg_latency_ms], threads_avg_latency_ms: [threads_avg_latency_ms, baseline_threads_avg_latency_ms]},
    note: 'the overall score is relative to the other hosts of the batch'}) AS evidence,
  format('{}: benchmark score of {} {} points under its baseline', machine_id, hostname, drop_points) AS title,
  [vc_query_cmd(machine_id, 'ts, hostname, overall_score, cpu_events_per_s, memory_mib_transferred, fileio_reads_per_s, mutex_avg_latency_ms, threads_avg_latency_ms',
    'cloud_bench_scores', ' ORDER BY ts DESC LIMIT 20')] AS next
FROM v1.bench_drift
-- A baseline needs a few runs: a median of one or two is one noisy run.
WHERE baseline_runs >= 3;
COMMENT ON VIEW v1.bench_factors IS 'Bench health factor per benchmarked host: bench_drift, the points its latest overall score fell under the median of its earlier runs (30 days, at least 3 runs)';
