-- Source `dcg` (destructive_command_guard): the commands its hook judged (lib/sources/dcg.ts): a
-- `history` row per row of dcg's history DB (allow, deny, warn, bypass; only where dcg's history is
-- on), a `pending` row per record of pending_exceptions.jsonl (every deny, on by default; the same
-- key again when a re-read finds it consumed). Commands are SHA-256 hashes, never text. Severity,
-- merging and dedup are in views/v1/22_dcg.sql.

CREATE MACRO vc_dcg_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, ts TIMESTAMP, outcome VARCHAR, rule_id VARCHAR, pack_id VARCHAR, pattern_name VARCHAR,
    rule_first_seen_at TIMESTAMP, reason VARCHAR, cwd VARCHAR, command_hash VARCHAR,
    agent_type VARCHAR, session_id VARCHAR, eval_duration_us BIGINT, allowlist_layer VARCHAR, exit_code INTEGER, bypass_code VARCHAR,
    full_hash VARCHAR, short_code VARCHAR, expires_at TIMESTAMP, consumed_at TIMESTAMP, match_source VARCHAR, record_version INTEGER
  )'
};

CREATE VIEW dcg AS
FROM vc_read_days(getvariable('vc_files_dcg'), getvariable('vc_parquet_dcg'), vc_dcg_columns());
COMMENT ON VIEW dcg IS 'Source dcg (all history; day = the day it was collected): per command dcg judged, a history row (its history DB: outcome allow/deny/warn/bypass, rule, cwd, command hash, session) or a pending row (pending_exceptions.jsonl: a deny with its short code, expiry and consumed time), as stored (re-reads included; see v1.dcg_events)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as dcg_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_dcg_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_dcg'), getvariable('vc_recent_parquet_dcg'), getvariable('vc_recent_tail_dcg'), getvariable('vc_tolerant'), vc_dcg_columns());
