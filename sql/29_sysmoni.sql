-- Source `sysmoni` (sysmoni): one row per run, the second sample of `sysmoni --json-stream`
-- (lib/sources/sysmoni.ts): CPU % over an interval, per core, load, memory, swap, disk and
-- network rates, GPUs, temperatures, battery, top processes (CPU: lifetime average) and cgroups.
-- Rates are NULL when only sysmoni's first sample came (its rates are placeholders there).

CREATE MACRO vc_sysmoni_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    impl VARCHAR, sampled_at TIMESTAMP, interval_ms DOUBLE, first_sample BOOLEAN,
    cpu_pct DOUBLE, per_core_pct DOUBLE[], cpu_count INTEGER, load1 DOUBLE, load5 DOUBLE, load15 DOUBLE,
    mem_used_bytes BIGINT, mem_total_bytes BIGINT, mem_used_pct DOUBLE, swap_used_bytes BIGINT, swap_total_bytes BIGINT,
    cached_bytes BIGINT, buffers_bytes BIGINT,
    disk_read_mibs DOUBLE, disk_write_mibs DOUBLE, net_rx_mbps DOUBLE, net_tx_mbps DOUBLE,
    devices STRUCT(name VARCHAR, read_mibs DOUBLE, write_mibs DOUBLE)[],
    gpus STRUCT(name VARCHAR, util_pct DOUBLE, mem_used_mib DOUBLE, mem_total_mib DOUBLE, temp_c DOUBLE)[],
    battery_percent DOUBLE, battery_state VARCHAR,
    temps STRUCT("zone" VARCHAR, temp_c DOUBLE)[],
    top STRUCT(pid INTEGER, nice INTEGER, cpu_pct DOUBLE, mem_pct DOUBLE, command VARCHAR, fd_count INTEGER,
      read_kibs DOUBLE, write_kibs DOUBLE, fd_diff INTEGER)[],
    throttled_count INTEGER,
    cgroups STRUCT(name VARCHAR, cpu_pct DOUBLE)[],
    inotify_max_user_watches BIGINT, inotify_max_user_instances BIGINT, inotify_watches BIGINT
  )'
};

CREATE VIEW sysmoni AS
FROM vc_read_days(getvariable('vc_files_sysmoni'), getvariable('vc_parquet_sysmoni'), vc_sysmoni_columns());
COMMENT ON VIEW sysmoni IS 'Source sysmoni (all history; day = the day it was collected): one sysmoni sample per run (CPU %, per core, load, memory, swap, disk and network rates, GPUs, temperatures, battery, top processes, cgroups, inotify)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as sysmoni_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_sysmoni_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_sysmoni'), getvariable('vc_recent_parquet_sysmoni'), getvariable('vc_recent_tail_sysmoni'), getvariable('vc_tolerant'), vc_sysmoni_columns());
