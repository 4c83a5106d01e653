-- Source `caut` (caut): what `caut usage --json` said on each run (lib/sources/caut.ts): a `run`
-- row (exit status, caut's fatal error), a `provider` row per account with its usage windows
-- (used % NULL: caut had no data, not 0 %), an `error` row per provider caut could not fetch.

CREATE MACRO vc_caut_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, exit_code INTEGER, schema_version VARCHAR, generated_at TIMESTAMP,
    error_code VARCHAR, error_category VARCHAR, message VARCHAR,
    provider VARCHAR, account VARCHAR, "source" VARCHAR, login_method VARCHAR, account_organization VARCHAR,
    primary_used_percent DOUBLE, primary_window_minutes INTEGER, primary_resets_at TIMESTAMP,
    secondary_used_percent DOUBLE, secondary_window_minutes INTEGER, secondary_resets_at TIMESTAMP,
    tertiary_used_percent DOUBLE, tertiary_window_minutes INTEGER, tertiary_resets_at TIMESTAMP,
    updated_at TIMESTAMP, status_indicator VARCHAR, status_description VARCHAR, status_updated_at TIMESTAMP,
    auth_warning VARCHAR
  )'
};

CREATE VIEW caut AS
FROM vc_read_days(getvariable('vc_files_caut'), getvariable('vc_parquet_caut'), vc_caut_columns());
COMMENT ON VIEW caut IS 'Source caut (all history; day = the day it was collected): per run of caut usage --json, a run row (exit_code, error_code, message), a provider row per account (usage windows: used %, window minutes, resets_at; login; status page) and an error row per provider caut could not fetch';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as caut_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_caut_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_caut'), getvariable('vc_recent_parquet_caut'), getvariable('vc_recent_tail_caut'), getvariable('vc_tolerant'), vc_caut_columns());
