-- Source `ru` (repo_updater): what `ru status --json --no-fetch` and `ru list --json` said on each
-- run (lib/sources/ru.ts): a `run` row (version, output shapes, total, ru's note when nothing is
-- configured) and a `repo` row per configured repository (status, branch, ahead/behind, dirty,
-- origin mismatch, configured URL; ahead/behind NULL where ru printed -1).

CREATE MACRO vc_ru_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, version VARCHAR, generated_at TIMESTAMP, status_shape VARCHAR, list_shape VARCHAR,
    total INTEGER, note VARCHAR,
    repo VARCHAR, path VARCHAR, url VARCHAR, status VARCHAR, branch VARCHAR, ahead INTEGER, behind INTEGER,
    dirty BOOLEAN, mismatch BOOLEAN
  )'
};

CREATE VIEW ru AS
FROM vc_read_days(getvariable('vc_files_ru'), getvariable('vc_parquet_ru'), vc_ru_columns());
COMMENT ON VIEW ru IS 'Source ru (all history; day = the day it was collected): per run of ru status --json --no-fetch and ru list --json, a run row (version, shapes, total, note) and a repo row per configured repository (status, branch, ahead, behind, dirty, mismatch, url)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as ru_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_ru_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_ru'), getvariable('vc_recent_parquet_ru'), getvariable('vc_recent_tail_ru'), getvariable('vc_tolerant'), vc_ru_columns());
