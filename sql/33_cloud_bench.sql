-- Source `cloud-bench` (cloud_bench): cloud_benchmarker's scores, one event per benchmarked host
-- and run, keyed by (hostname, datetime) (lib/sources/cloud-bench.ts). A row the ingest updated
-- in place is stored again under the same key: the latest stored copy is the row's value.

CREATE MACRO vc_cloud_bench_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    ts TIMESTAMP, datetime_local VARCHAR, utc_offset_minutes INTEGER, row_id BIGINT, hostname VARCHAR, ip_address VARCHAR,
    cpu_events_per_s DOUBLE, fileio_reads_per_s DOUBLE, memory_mib_transferred DOUBLE,
    mutex_avg_latency_ms DOUBLE, threads_avg_latency_ms DOUBLE, overall_score DOUBLE
  )'
};

CREATE VIEW cloud_bench AS
FROM vc_read_days(getvariable('vc_files_cloud_bench'), getvariable('vc_parquet_cloud_bench'), vc_cloud_bench_columns());
COMMENT ON VIEW cloud_bench IS 'Source cloud-bench (all history; day = the day it was collected): per benchmarked host and run (ts, UTC; datetime_local as the store wrote it), sysbench subscores (cpu events/s, fileio reads/s, memory MiB transferred, mutex and threads latency ms) and the overall score (0-100, relative to its batch); a row updated upstream appears again under the same key';

CREATE MACRO vc_cloud_bench_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_cloud_bench'), getvariable('vc_recent_parquet_cloud_bench'), getvariable('vc_recent_tail_cloud_bench'), getvariable('vc_tolerant'), vc_cloud_bench_columns());
