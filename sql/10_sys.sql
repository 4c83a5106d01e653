-- Source `sys`: one row per sample, the envelope plus the flattened data of lib/sources/sys.ts.

-- The stored line's columns, typed once: read_json infers nothing (no sampling across files).
CREATE MACRO vc_sys_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR',
  collector_version: 'VARCHAR', schema_version: 'INTEGER',
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

-- `tolerant` skips malformed lines (as all-NULL rows, dropped below); it halves parse speed, so
-- the recent table is first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
CREATE MACRO vc_read_sys(files, tolerant) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = vc_sys_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now();

-- All history. `day` comes from the file name, so `WHERE day = ...` reads only that day's files.
CREATE VIEW sys AS
SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day, machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(getvariable('vc_files_sys'), format = 'newline_delimited', hive_partitioning = false,
  ignore_errors = true, filename = true, maximum_object_size = 2097152, columns = vc_sys_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
  AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE;
COMMENT ON VIEW sys IS 'Source sys (all history; filter on day to read only those days): every system sample (load, cpu, memory, swap, filesystems[], top_cpu[], top_mem[], inotify, oom)';

-- A table, parsed once per session: every derived view reads it.
CREATE TABLE sys_recent AS FROM vc_read_sys(getvariable('vc_recent_sys'), getvariable('vc_tolerant'));
COMMENT ON TABLE sys_recent IS 'Source sys over the recent window (the last hours, plus each machine''s newest day): what derived views read';
