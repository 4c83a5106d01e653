-- Source `repos`: one row per repository per run (lib/sources/repos.ts).

-- The stored line's columns, typed once: read_json infers nothing (no sampling across files).
CREATE MACRO vc_repos_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR',
  collector_version: 'VARCHAR', schema_version: 'INTEGER',
  data: 'STRUCT(
    path VARCHAR, name VARCHAR, branch VARCHAR, head VARCHAR, detached BOOLEAN, upstream VARCHAR,
    ahead INTEGER, behind INTEGER, dirty_files INTEGER, staged_files INTEGER, untracked_files INTEGER,
    conflicted_files INTEGER, stash_count INTEGER, last_commit_at TIMESTAMP, last_commit_subject VARCHAR,
    remote_url VARCHAR, error VARCHAR
  )'
};

-- `tolerant` skips malformed lines (as all-NULL rows, dropped below); it halves parse speed, so
-- the recent table is first read strictly and re-read tolerantly only if that fails (lib/duck.ts).
CREATE MACRO vc_read_repos(files, tolerant) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = tolerant,
  maximum_object_size = 2097152, columns = vc_repos_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now();

-- All history. `day` comes from the file name, so `WHERE day = ...` reads only that day's files.
CREATE VIEW repos AS
SELECT regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE AS day, machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(getvariable('vc_files_repos'), format = 'newline_delimited', hive_partitioning = false,
  ignore_errors = true, filename = true, maximum_object_size = 2097152, columns = vc_repos_columns())
WHERE machine_id IS NOT NULL AND collected_at IS NOT NULL AND collected_at <= vc_now()
  AND regexp_extract(filename, 'date=([0-9-]+)[.]ndjson$', 1)::DATE <= vc_now()::DATE;
COMMENT ON VIEW repos IS 'Source repos (all history; filter on day to read only those days): every git repository seen per run (branch, dirty/untracked/staged counts, ahead/behind, stash, last commit)';

-- A table, parsed once per session: every derived view reads it.
CREATE TABLE repos_recent AS FROM vc_read_repos(getvariable('vc_recent_repos'), getvariable('vc_tolerant'));
COMMENT ON TABLE repos_recent IS 'Source repos over the recent window (the last hours, plus each machine''s newest day): what derived views read';
