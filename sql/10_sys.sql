-- Source `sys`: one row per sample, the envelope plus the flattened data of lib/sources/sys.ts.

-- The stored line's columns, typed once.
CREATE MACRO vc_sys_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    load1 DOUBLE, load5 DOUBLE, load15 DOUBLE, cpu_count INTEGER, cpu_util DOUBLE, uptime_s DOUBLE,
    boot_time TIMESTAMP, mem_total_bytes BIGINT, mem_available_bytes BIGINT, swap_total_bytes BIGINT,
    swap_free_bytes BIGINT, oom_kills BIGINT, inotify_max_user_watches BIGINT, inotify_max_user_instances BIGINT,
    inotify_watches_used BIGINT, inotify_instances_used BIGINT, process_count INTEGER,
    filesystems STRUCT(mount VARCHAR, device VARCHAR, fstype VARCHAR, size_bytes BIGINT, used_bytes BIGINT,
      avail_bytes BIGINT, inodes BIGINT, inodes_used BIGINT)[],
    top_cpu STRUCT(pid INTEGER, ppid INTEGER, "user" VARCHAR, comm VARCHAR, args VARCHAR, state VARCHAR,
      cpu_pct DOUBLE, rss_bytes BIGINT, started_at TIMESTAMP)[],
    top_mem STRUCT(pid INTEGER, ppid INTEGER, "user" VARCHAR, comm VARCHAR, args VARCHAR, state VARCHAR,
      cpu_pct DOUBLE, rss_bytes BIGINT, started_at TIMESTAMP)[]
  )'
};

CREATE VIEW sys AS
FROM vc_read_days(getvariable('vc_files_sys'), getvariable('vc_parquet_sys'), vc_sys_columns());
COMMENT ON VIEW sys IS 'Source sys (all history; filter on day to read only those days): every system sample (load, cpu, memory, swap, filesystems[], top_cpu[], top_mem[], inotify, oom)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as sys_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_sys_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_sys'), getvariable('vc_recent_parquet_sys'), getvariable('vc_recent_tail_sys'), getvariable('vc_tolerant'), vc_sys_columns());
