-- Source `repos`: one row per repository per run (lib/sources/repos.ts).
CREATE MACRO vc_read_repos(files) AS TABLE
SELECT machine_id, collected_at, run_id, collector_version, schema_version, data.*
FROM read_json(files, format = 'newline_delimited', hive_partitioning = false, ignore_errors = true,
  maximum_object_size = 2097152,
  columns = {
    source: 'VARCHAR', machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR',
    collector_version: 'VARCHAR', schema_version: 'INTEGER',
    data: 'STRUCT(
      path VARCHAR, name VARCHAR, branch VARCHAR, head VARCHAR, detached BOOLEAN, upstream VARCHAR,
      ahead INTEGER, behind INTEGER, dirty_files INTEGER, staged_files INTEGER, untracked_files INTEGER,
      conflicted_files INTEGER, stash_count INTEGER, last_commit_at TIMESTAMP, last_commit_subject VARCHAR,
      remote_url VARCHAR, error VARCHAR
    )'
  })
WHERE source = 'repos' AND machine_id IS NOT NULL AND collected_at IS NOT NULL AND data IS NOT NULL
  AND collected_at <= vc_now();

CREATE VIEW repos AS FROM vc_read_repos(getvariable('vc_files_repos'));
COMMENT ON VIEW repos IS 'Source repos: every git repository seen per run (branch, dirty/untracked/staged counts, ahead/behind, stash, last commit)';

CREATE VIEW repos_recent AS FROM vc_read_repos(getvariable('vc_recent_repos'));
COMMENT ON VIEW repos_recent IS 'Source repos, last day only (plus each machine''s newest day)';
