-- name: machines
SELECT * FROM v1.machine_overview ORDER BY score NULLS FIRST, machine_id;

-- name: filesystems
SELECT machine_id, mount, fstype, size_bytes, used_bytes, avail_bytes, used_pct, inodes_used_pct
FROM machine_filesystems ORDER BY machine_id, used_pct DESC;

-- name: freshness
SELECT machine_id, source, interval_s, last_ok_at, age_s, last_status, last_error, runs_recent, failures_recent
FROM source_freshness ORDER BY machine_id, source;
