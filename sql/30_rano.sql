-- Source `rano`: the network connections of coding agents rano's monitor saw, a row per connect
-- and per close, read from its SQLite store by row id (lib/sources/rano.ts), with when the store
-- first saw the remote host. Dedup and the network views are in views/v1/22_rano.sql, 26_network.sql.

CREATE MACRO vc_rano_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    id BIGINT, ts TIMESTAMP, monitor_run_id VARCHAR, "event" VARCHAR, provider VARCHAR, pid BIGINT, comm VARCHAR, cmdline_head VARCHAR,
    proto VARCHAR, local_ip VARCHAR, local_port INTEGER, remote_ip VARCHAR, remote_port INTEGER, "domain" VARCHAR,
    ancestry_path VARCHAR, remote_is_private BOOLEAN, ip_version INTEGER, duration_ms BIGINT, alert BOOLEAN, retry_count INTEGER,
    host_first_seen_at TIMESTAMP
  )'
};

CREATE VIEW rano AS
FROM vc_read_days(getvariable('vc_files_rano'), getvariable('vc_parquet_rano'), vc_rano_columns());
COMMENT ON VIEW rano IS 'Source rano (all history; day = the day it was collected): one row per connect or close rano saw (process, provider, local and remote address, domain, duration on close, alert), with when the store first saw the remote host; as stored (see v1.rano_events)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as rano_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_rano_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_rano'), getvariable('vc_recent_parquet_rano'), getvariable('vc_recent_tail_rano'), getvariable('vc_tolerant'), vc_rano_columns());
