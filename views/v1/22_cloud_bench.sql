-- cloud_benchmarker's scores, one row per benchmarked host and run (its latest stored values),
-- read over all history: a host's baseline needs its earlier runs, and the rows are few.

-- The benchmarked host as a vc machine: the machine of that id, else the one whose probed host
-- name (tools) is that name (first label, any case). A host vc does not know stays with the
-- machine whose store holds it.
CREATE VIEW v1.cloud_bench_scores AS
WITH rows AS (
  SELECT * FROM cloud_bench
  QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1
), names AS (
  SELECT machine_id, lower(machine_id) AS name, 1 AS pref FROM machines
  UNION ALL
  SELECT machine_id, lower(split_part(arg_max(hostname, collected_at), '.', 1)), 2 FROM tools_recent WHERE hostname IS NOT NULL GROUP BY machine_id
), host_machine AS (
  SELECT name, arg_min(machine_id, (pref, machine_id)) AS machine_id FROM names WHERE name IS NOT NULL AND name <> '' GROUP BY name
)
SELECT coalesce(h.machine_id, r.machine_id) AS machine_id, r.machine_id AS store_machine_id, r.collected_at,
  r.ts, r.datetime_local, r.utc_offset_minutes, r.hostname, r.ip_address,
  r.cpu_events_per_s, r.fileio_reads_per_s, r.memory_mib_transferred, r.mutex_avg_latency_ms, r.threads_avg_latency_ms,
  r.overall_score
FROM rows r
LEFT JOIN host_machine h ON h.name = lower(split_part(r.hostname, '.', 1));
COMMENT ON VIEW v1.cloud_bench_scores IS 'cloud_benchmarker''s scores, one row per benchmarked host and run with its latest values: machine_id is the benchmarked host as a vc machine (by id or probed host name; else the machine holding the store, store_machine_id), ts in UTC (datetime_local as the store wrote it), sysbench subscores and the overall score (0-100, relative to the hosts of its batch)';
