-- Rollups of sys (lib/rollups.ts): per machine, metric and hour (or day), the count, min, average,
-- maximum and 95th percentile of the samples. One set of macros computes them both where vc
-- compact writes a closed day's files and where the views compute the days not rolled up, so the
-- two agree. `rel` names a relation with sys's columns (the view sys, or one segment's rows).

-- One row per sample and metric; a metric a sample lacks (no swap, no filesystems) is left out.
-- Load per core, not load: a machine's cores change its scale. Memory used counts what the
-- kernel could not hand out (1 - MemAvailable/MemTotal); disk is the fullest filesystem, as df.
CREATE MACRO vc_sys_metric_values(rel) AS TABLE
SELECT day, machine_id, collected_at, m.metric, m.value
FROM (
  SELECT day, machine_id, collected_at, unnest([
    {'metric': 'load1_per_core', 'value': load1 / nullif(cpu_count, 0)},
    {'metric': 'load5_per_core', 'value': load5 / nullif(cpu_count, 0)},
    {'metric': 'cpu_util', 'value': cpu_util},
    {'metric': 'memory_used_pct', 'value': 100.0 * (1 - mem_available_bytes / nullif(mem_total_bytes, 0))},
    {'metric': 'swap_used_pct', 'value': 100.0 * (1 - swap_free_bytes / nullif(swap_total_bytes, 0))},
    {'metric': 'disk_used_pct', 'value': list_max(list_transform(filesystems, f -> 100.0 * f.used_bytes / nullif(f.used_bytes + f.avail_bytes, 0)))},
    {'metric': 'processes', 'value': process_count::DOUBLE}
  ]) AS m
  FROM query_table(rel)
)
WHERE m.value IS NOT NULL;

-- Rounded to 6 decimals: an average's last bits depend on the order a parallel scan sums in, and
-- a rolled-up day must read exactly as the same day computed from its samples.
CREATE MACRO vc_sys_hourly_of(rel) AS TABLE
SELECT day, machine_id, date_trunc('hour', collected_at) AS hour, metric, count(*) AS samples,
  round(min(value), 6) AS min, round(avg(value), 6) AS avg, round(max(value), 6) AS max,
  round(quantile_cont(value, 0.95), 6) AS p95
FROM vc_sys_metric_values(rel)
GROUP BY ALL;

CREATE MACRO vc_sys_daily_of(rel) AS TABLE
SELECT day, machine_id, metric, count(*) AS samples,
  round(min(value), 6) AS min, round(avg(value), 6) AS avg, round(max(value), 6) AS max,
  round(quantile_cont(value, 0.95), 6) AS p95
FROM vc_sys_metric_values(rel)
GROUP BY ALL;

-- The stored rollups a session reads (lib/duck.ts lists them: vc_rollups_sys_<grain>, with the
-- days they cover in vc_rollup_days_sys). With none, the list holds sql/empty.parquet, which
-- lacks these columns: the typed empty row set on the left gives every column its type. `day`
-- comes from the file's directory (date=<day>/), so a filter on it skips other days' files
-- unopened: a baseline over 14 days costs the same after years of rollups.
CREATE MACRO vc_rollup_day(filename) AS TRY_CAST(regexp_extract(filename, 'date=([0-9-]+)/[^/]*$', 1) AS DATE);

CREATE MACRO vc_sys_hourly_stored() AS TABLE
SELECT day, machine_id, hour, metric, samples, min, avg, max, p95
FROM (
  SELECT NULL::DATE AS day, NULL::VARCHAR AS machine_id, NULL::TIMESTAMP AS hour, NULL::VARCHAR AS metric, NULL::BIGINT AS samples,
    NULL::DOUBLE AS min, NULL::DOUBLE AS avg, NULL::DOUBLE AS max, NULL::DOUBLE AS p95
  WHERE false
  UNION ALL BY NAME
  SELECT vc_rollup_day(filename) AS day, COLUMNS(c -> c IN ('machine_id', 'hour', 'metric', 'samples', 'min', 'avg', 'max', 'p95'))
  FROM read_parquet(getvariable('vc_rollups_sys_hourly'), union_by_name = true, hive_partitioning = false, filename = true)
);

CREATE MACRO vc_sys_daily_stored() AS TABLE
SELECT day, machine_id, metric, samples, min, avg, max, p95
FROM (
  SELECT NULL::DATE AS day, NULL::VARCHAR AS machine_id, NULL::VARCHAR AS metric, NULL::BIGINT AS samples,
    NULL::DOUBLE AS min, NULL::DOUBLE AS avg, NULL::DOUBLE AS max, NULL::DOUBLE AS p95
  WHERE false
  UNION ALL BY NAME
  SELECT vc_rollup_day(filename) AS day, COLUMNS(c -> c IN ('machine_id', 'metric', 'samples', 'min', 'avg', 'max', 'p95'))
  FROM read_parquet(getvariable('vc_rollups_sys_daily'), union_by_name = true, hive_partitioning = false, filename = true)
);

-- sys on the days the stored rollups do not stand for (lib/duck.ts lists only their files): what
-- v1.sys_hourly and v1.sys_daily compute those days from.
CREATE VIEW sys_unrolled AS
FROM vc_read_days(getvariable('vc_files_sys_unrolled'), getvariable('vc_parquet_sys_unrolled'), vc_sys_columns());
COMMENT ON VIEW sys_unrolled IS 'Source sys on the days without stored rollups (open, or changed since they were rolled up): what sys_hourly and sys_daily compute those days from';
