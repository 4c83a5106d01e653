-- Readers of stored lines, shared by every source: the envelope's columns plus `data` flattened.
-- `col_types` is the source's vc_<source>_columns(): read_json infers nothing (no sampling).

-- `tolerant` skips malformed lines (as all-NULL rows, dropped here); it halves parse speed, so
-- the recent tables are first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
CREATE MACRO vc_read(files, tolerant, col_types) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, "key", data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = col_types)
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now();

-- All history. `day` comes from the file name, so `WHERE day = ...` reads only that day's files.
CREATE MACRO vc_read_days(files, col_types) AS TABLE
SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day,
  machine_id, collected_at, run_id, collector_version, schema_version, "key", data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = true,
  filename = true, maximum_object_size = 2097152, columns = col_types)
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
  AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE;
