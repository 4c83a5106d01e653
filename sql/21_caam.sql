-- Source `caam` (caam): what `caam status --json` and `caam limits --format json` said on each run
-- (lib/sources/caam.ts): a `run` row (version, status's free-text warnings and recommendations), a
-- `tool` row per tool (login, active profile, health, cooldown, identity) and a `profile` row per
-- vault profile with its quota windows (used % NULL: unknown, not 0 %; unknown times NULL).

CREATE MACRO vc_caam_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, version VARCHAR, warnings VARCHAR[], recommendations VARCHAR[],
    provider VARCHAR, profile VARCHAR, logged_in BOOLEAN, error VARCHAR,
    health_status VARCHAR, health_reason VARCHAR, health_expires_at TIMESTAMP, health_error_count INTEGER,
    cooldown_remaining_s INTEGER,
    identity_email VARCHAR, identity_organization VARCHAR, identity_plan_type VARCHAR, identity_account_id VARCHAR,
    identity_expires_at TIMESTAMP,
    "rank" INTEGER, plan_type VARCHAR, rate_limit_tier VARCHAR, fetched_at TIMESTAMP,
    primary_used_percent DOUBLE, primary_window_seconds BIGINT, primary_resets_at TIMESTAMP, primary_severity VARCHAR,
    secondary_used_percent DOUBLE, secondary_window_seconds BIGINT, secondary_resets_at TIMESTAMP, secondary_severity VARCHAR,
    tertiary_used_percent DOUBLE, tertiary_window_seconds BIGINT, tertiary_resets_at TIMESTAMP, tertiary_severity VARCHAR,
    model_windows STRUCT(model VARCHAR, used_percent DOUBLE, window_seconds BIGINT, resets_at TIMESTAMP, severity VARCHAR)[],
    credits_has_credits BOOLEAN, credits_unlimited BOOLEAN, credits_balance DOUBLE,
    burn_tokens_per_hour DOUBLE, burn_percent_per_hour DOUBLE, burn_confidence DOUBLE,
    estimated_depletion TIMESTAMP, depletion_confidence DOUBLE
  )'
};

CREATE VIEW caam AS
FROM vc_read_days(getvariable('vc_files_caam'), getvariable('vc_parquet_caam'), vc_caam_columns());
COMMENT ON VIEW caam IS 'Source caam (all history; day = the day it was collected): per run of caam status --json and caam limits --format json, a run row (version, warnings, recommendations), a tool row per tool (logged_in, active profile, health, cooldown, identity) and a profile row per vault profile (quota windows: used %, length, resets_at; error; burn rate; credits)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as caam_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_caam_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_caam'), getvariable('vc_recent_parquet_caam'), getvariable('vc_recent_tail_caam'), getvariable('vc_tolerant'), vc_caam_columns());
