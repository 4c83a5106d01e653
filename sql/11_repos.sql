-- Source `repos`: one row per repository per run (lib/sources/repos.ts).

-- The stored line's columns, typed once.
CREATE MACRO vc_repos_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    path VARCHAR, name VARCHAR, branch VARCHAR, head VARCHAR, detached BOOLEAN, upstream VARCHAR,
    ahead INTEGER, behind INTEGER, dirty_files INTEGER, staged_files INTEGER, untracked_files INTEGER,
    conflicted_files INTEGER, stash_count INTEGER, last_commit_at TIMESTAMP, last_commit_subject VARCHAR,
    remote_url VARCHAR, error VARCHAR
  )'
};

CREATE VIEW repos AS
FROM vc_read_days(getvariable('vc_files_repos'), getvariable('vc_parquet_repos'), vc_repos_columns());
COMMENT ON VIEW repos IS 'Source repos (all history; filter on day to read only those days): every git repository seen per run (branch, dirty/untracked/staged counts, ahead/behind, stash, last commit)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as repos_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_repos_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_repos'), getvariable('vc_recent_parquet_repos'), getvariable('vc_recent_tail_repos'), getvariable('vc_tolerant'), vc_repos_columns());

-- The last run of each machine's closed days in the last vc_day_end_days (lib/recent.ts
-- cutLastRuns cuts them out when the session opens: a run's few KB per day), for views that follow
-- a repository over days. A view, parsed only by the queries that read it (the health factors,
-- once); tolerant, as older days are read nowhere else that would say a line is damaged.
CREATE VIEW repos_day_ends AS
FROM vc_read_ndjson(getvariable('vc_day_ends_repos'), true, vc_repos_columns());
COMMENT ON VIEW repos_day_ends IS 'Source repos: the last run of each machine''s last closed days (vc_day_end_days of them), one picture per day for trends over days';
