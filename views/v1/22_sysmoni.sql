-- sysmoni's samples, and the machine picture: one row per machine that takes sysmoni's figures
-- where sysmoni ran recently and vc's own `sys` sample's where it did not (both are kept).

CREATE VIEW v1.sysmoni_samples AS
SELECT machine_id, collected_at, run_id, impl, sampled_at, interval_ms / 1000 AS interval_s, first_sample,
  cpu_pct, per_core_pct, cpu_count, load1, load5, load15,
  mem_total_bytes, mem_used_bytes,
  -- gopsutil's Used is Total - Free - Buffers - Cached: the rest is free or reclaimable page cache,
  -- an estimate of available memory that counts shared memory (tmpfs) as reclaimable.
  mem_total_bytes - mem_used_bytes AS mem_available_estimate_bytes,
  mem_used_pct, swap_total_bytes, swap_used_bytes, cached_bytes, buffers_bytes,
  -- sysmoni's totals add up disks, their partitions and dm devices: the same bytes two or three
  -- times. Where it listed its devices, the whole disks only (not a partition of another listed
  -- device, not a dm or md device stacked on them); else its total.
  coalesce(list_sum([d.read_mibs FOR d IN devices IF NOT regexp_matches(d.name, '^(dm-|md)')
    AND NOT list_bool_or([d.name <> e.name AND starts_with(d.name, e.name) FOR e IN devices])]), disk_read_mibs) AS disk_read_mibs,
  coalesce(list_sum([d.write_mibs FOR d IN devices IF NOT regexp_matches(d.name, '^(dm-|md)')
    AND NOT list_bool_or([d.name <> e.name AND starts_with(d.name, e.name) FOR e IN devices])]), disk_write_mibs) AS disk_write_mibs,
  devices, net_rx_mbps, net_tx_mbps,
  gpus, len(gpus) AS gpu_count, list_max([g.util_pct FOR g IN gpus]) AS gpu_util_max_pct,
  list_max([g.temp_c FOR g IN gpus]) AS gpu_temp_max_c, list_max([t.temp_c FOR t IN temps]) AS temp_max_c, temps,
  battery_percent, battery_state, top, throttled_count, cgroups,
  inotify_max_user_watches, inotify_max_user_instances, inotify_watches
FROM sysmoni_recent
QUALIFY row_number() OVER (PARTITION BY machine_id, run_id ORDER BY collected_at) = 1;
COMMENT ON VIEW v1.sysmoni_samples IS 'sysmoni''s samples (one per run): CPU % over an interval, per core, load, memory (used as gopsutil counts it, and the available estimate left), swap, whole-disk and network rates, GPUs (max use and temperature), temperatures, battery, top processes (CPU as a lifetime average), cgroups, inotify limits; rates NULL where only its first sample came';

CREATE VIEW v1.latest_sysmoni AS
FROM v1.sysmoni_samples
QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.latest_sysmoni IS 'The newest sysmoni sample of each machine';

-- Per field, the richer of the two newest samples. sysmoni's is used while it is recent (within
-- three of its intervals) or newer than sys's: its CPU % covers a whole interval, and it alone has
-- disk and network rates, GPUs, temperatures and battery. sys's MemAvailable (the kernel's own
-- estimate) beats sysmoni's free-plus-cache while sys is recent too; uptime, OOM kills, process
-- count and per-user inotify use are sys's only (sysmoni's watch count is usually an unreadable 0).
CREATE VIEW v1.machine_sample AS
WITH iv AS (
  SELECT coalesce(max(interval_s) FILTER (WHERE source = 'sysmoni'), 120) AS sysmoni_s,
    coalesce(max(interval_s) FILTER (WHERE source = 'sys'), 120) AS sys_s
  FROM source_intervals
), pick AS (
  SELECT coalesce(s.machine_id, m.machine_id) AS machine_id, s.machine_id IS NOT NULL AS has_s,
    m.machine_id IS NOT NULL AND (s.machine_id IS NULL OR m.collected_at >= s.collected_at
      OR m.collected_at >= vc_now() - to_seconds(3 * iv.sysmoni_s)) AS use_m,
    s.machine_id IS NOT NULL AND (m.machine_id IS NULL OR s.collected_at >= m.collected_at
      OR s.collected_at >= vc_now() - to_seconds(3 * iv.sys_s)) AS sys_recent_enough,
    s.collected_at AS s_at, m.collected_at AS m_at,
    s.load1 AS s_load1, s.load5 AS s_load5, s.load15 AS s_load15, s.cpu_count AS s_cpu_count, s.cpu_util AS s_cpu_util,
    s.mem_total_bytes AS s_mem_total, s.mem_available_bytes AS s_mem_available, s.swap_total_bytes AS s_swap_total,
    s.swap_free_bytes AS s_swap_free, s.uptime_s, s.boot_time, s.oom_kills, s.process_count,
    s.inotify_max_user_watches AS s_max_watches, s.inotify_max_user_instances AS s_max_instances,
    s.inotify_watches_used, s.inotify_instances_used,
    m.load1 AS m_load1, m.load5 AS m_load5, m.load15 AS m_load15, m.cpu_count AS m_cpu_count, m.cpu_pct AS m_cpu_pct,
    m.mem_total_bytes AS m_mem_total, m.mem_available_estimate_bytes AS m_mem_available, m.swap_total_bytes AS m_swap_total,
    m.swap_used_bytes AS m_swap_used, m.inotify_max_user_watches AS m_max_watches, m.inotify_max_user_instances AS m_max_instances,
    m.per_core_pct, m.disk_read_mibs, m.disk_write_mibs, m.net_rx_mbps, m.net_tx_mbps, m.gpu_count, m.gpu_util_max_pct,
    m.gpu_temp_max_c, m.temp_max_c, m.battery_percent, m.battery_state
  FROM latest_sys s FULL JOIN v1.latest_sysmoni m ON m.machine_id = s.machine_id CROSS JOIN iv
)
SELECT machine_id,
  CASE WHEN use_m THEN 'sysmoni' ELSE 'sys' END AS figures_from,
  CASE WHEN use_m THEN m_at ELSE s_at END AS collected_at,
  s_at AS sys_collected_at, m_at AS sysmoni_collected_at,
  CASE WHEN use_m THEN coalesce(m_load1, s_load1) ELSE s_load1 END AS load1,
  CASE WHEN use_m THEN coalesce(m_load5, s_load5) ELSE s_load5 END AS load5,
  CASE WHEN use_m THEN coalesce(m_load15, s_load15) ELSE s_load15 END AS load15,
  CASE WHEN use_m THEN coalesce(m_cpu_count, s_cpu_count) ELSE s_cpu_count END AS cpu_count,
  -- (a fraction 0-1, as sys stores it)
  CASE WHEN use_m THEN coalesce(round(m_cpu_pct / 100, 3), s_cpu_util) ELSE s_cpu_util END AS cpu_util,
  CASE WHEN use_m THEN coalesce(m_mem_total, s_mem_total) ELSE s_mem_total END AS mem_total_bytes,
  CASE WHEN sys_recent_enough AND s_mem_available IS NOT NULL THEN s_mem_available
    WHEN use_m AND m_mem_available IS NOT NULL THEN m_mem_available ELSE s_mem_available END AS mem_available_bytes,
  CASE WHEN sys_recent_enough AND s_mem_available IS NOT NULL THEN 'sys'
    WHEN use_m AND m_mem_available IS NOT NULL THEN 'sysmoni' WHEN has_s THEN 'sys' END AS mem_available_from,
  CASE WHEN use_m THEN coalesce(m_swap_total, s_swap_total) ELSE s_swap_total END AS swap_total_bytes,
  CASE WHEN use_m AND m_swap_total IS NOT NULL THEN m_swap_total - m_swap_used ELSE s_swap_free END AS swap_free_bytes,
  uptime_s, boot_time, oom_kills, process_count,
  coalesce(s_max_watches, m_max_watches) AS inotify_max_user_watches,
  coalesce(s_max_instances, m_max_instances) AS inotify_max_user_instances,
  inotify_watches_used, inotify_instances_used,
  CASE WHEN use_m THEN per_core_pct END AS per_core_pct,
  CASE WHEN use_m THEN disk_read_mibs END AS disk_read_mibs,
  CASE WHEN use_m THEN disk_write_mibs END AS disk_write_mibs,
  CASE WHEN use_m THEN net_rx_mbps END AS net_rx_mbps,
  CASE WHEN use_m THEN net_tx_mbps END AS net_tx_mbps,
  CASE WHEN use_m THEN gpu_count END AS gpu_count,
  CASE WHEN use_m THEN gpu_util_max_pct END AS gpu_util_max_pct,
  CASE WHEN use_m THEN gpu_temp_max_c END AS gpu_temp_max_c,
  CASE WHEN use_m THEN temp_max_c END AS temp_max_c,
  CASE WHEN use_m THEN battery_percent END AS battery_percent,
  CASE WHEN use_m THEN battery_state END AS battery_state
FROM pick;
COMMENT ON VIEW v1.machine_sample IS 'One row per machine: its newest load, CPU, memory and swap, from sysmoni where sysmoni ran recently (figures_from), else from sys; available memory from sys''s MemAvailable while sys is recent (mem_available_from); uptime, OOM kills, processes and inotify use from sys; sysmoni''s disk and network rates, GPU, temperature and battery where it is used';

-- Load history of both sources, for "sustained" load: each sample of either counts.
CREATE VIEW v1.load_samples AS
SELECT machine_id, collected_at, 'sys' AS source, load5, cpu_count FROM sys_recent
UNION ALL
SELECT machine_id, collected_at, 'sysmoni', load5, cpu_count FROM v1.sysmoni_samples WHERE load5 IS NOT NULL AND cpu_count IS NOT NULL;
COMMENT ON VIEW v1.load_samples IS 'Every load5 sample in the recent window, from sys and from sysmoni, with the core count';
