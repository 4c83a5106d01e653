-- Readers of stored lines, shared by every source: the envelope's columns plus `data` flattened.
-- `col_types` is the source's vc_<source>_columns(): read_json infers nothing (no sampling).

-- `tolerant` skips malformed lines (as all-NULL rows, dropped here); it halves parse speed, so
-- the recent tables are first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
-- `parquet` holds the compacted segments (lib/compact.ts) that overlap the window, or are the
-- newest day of a machine in `tail` (machine -> start of its last hours, for one whose newest
-- lines were compacted before the window began): as the tail of its newest day file would be
-- (lib/recent.ts). The NDJSON and the Parquet never hold the same line: compaction covers a
-- byte prefix of each day file, and only what follows it is cut into the window file. Segments
-- hold the rows as the NDJSON side reads them (a repeated name, like data.schema_version, as
-- schema_version_1), and are matched by name: a column added since they were written is NULL there.
CREATE MACRO vc_read_ndjson(files, tolerant, col_types) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, "key", data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = col_types)
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now();

CREATE MACRO vc_read_segments(parquet, tail) AS TABLE
SELECT * EXCLUDE (day) FROM read_parquet(parquet, union_by_name = true)
WHERE collected_at <= vc_now()
  -- A constant bound first, so the scan skips what no machine needs.
  AND collected_at >= least(vc_recent_since() - INTERVAL 15 MINUTE, list_min(map_values(tail)))
  AND (collected_at >= vc_recent_since() - INTERVAL 15 MINUTE OR collected_at >= tail[machine_id]);

CREATE MACRO vc_read(files, parquet, tail, tolerant, col_types) AS TABLE
FROM vc_read_ndjson(files, tolerant, col_types)
UNION ALL BY NAME
FROM vc_read_segments(parquet, tail);

-- All history: the compacted segments (`parquet`, which carry `day`) and the NDJSON they do not
-- cover. `day` comes from the file name, so `WHERE day = ...` reads only that day's NDJSON files
-- (and only that day's row groups of the Parquet, which is sorted by machine and time per day).
-- The NDJSON side is what compaction writes (vc_read_raw_day), so both read alike.
CREATE MACRO vc_read_days(files, parquet, col_types) AS TABLE
FROM (
  SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day,
    machine_id, collected_at, run_id, collector_version, schema_version, "key", data.*
  FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = true,
    filename = true, maximum_object_size = 2097152, columns = col_types)
  WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL
    AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE
)
WHERE collected_at <= vc_now()
UNION ALL BY NAME
SELECT * FROM read_parquet(parquet, union_by_name = true)
WHERE collected_at <= vc_now() AND day <= vc_now()::DATE;

-- What compaction writes of raw lines of one day: every row, whatever vc_now() is.
CREATE MACRO vc_read_raw_day(files, day, col_types) AS TABLE
SELECT day::DATE AS day, machine_id, collected_at, run_id, collector_version, schema_version, "key", data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = true,
  maximum_object_size = 2097152, columns = col_types)
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL;
