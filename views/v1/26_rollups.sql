-- Hourly and daily rollups of sys over all history (sql/40_rollups.sql): the stored files of the
-- days vc compact rolled up, and the other days (still open, or changed since) computed from
-- sys_unrolled, which lists only those days' files: over months of history these views cost what
-- the open days and the small rollup files cost.

CREATE VIEW v1.sys_hourly AS
FROM vc_sys_hourly_stored()
UNION ALL
FROM vc_sys_hourly_of('sys_unrolled') WHERE NOT list_contains(getvariable('vc_rollup_days_sys'), day);
COMMENT ON VIEW v1.sys_hourly IS 'Per machine, metric and hour (all history; filter on day): samples, min, avg, max, p95 of load1_per_core, load5_per_core, cpu_util (0-1), memory_used_pct, swap_used_pct, disk_used_pct (fullest filesystem), processes; closed days read from their stored rollups';

CREATE VIEW v1.sys_daily AS
FROM vc_sys_daily_stored()
UNION ALL
FROM vc_sys_daily_of('sys_unrolled') WHERE NOT list_contains(getvariable('vc_rollup_days_sys'), day);
COMMENT ON VIEW v1.sys_daily IS 'Per machine, metric and UTC day (all history; filter on day): samples, min, avg, max, p95 of the metrics of sys_hourly; closed days read from their stored rollups';
