-- Source `codex-logs` (codex_logs): Codex CLI session headers, turn contexts (the model) and
-- token_count events, each with its file and byte offset (lib/sources/codex-logs.ts).
-- Which events count, and by how much, is in views/v1/60_usage.sql.

CREATE MACRO vc_codex_logs_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, file VARCHAR, byte_offset BIGINT, ts TIMESTAMP, session_id VARCHAR, cwd VARCHAR,
    forked_from_id VARCHAR, originator VARCHAR, cli_version VARCHAR, session_source VARCHAR,
    git_branch VARCHAR, git_repository_url VARCHAR, model VARCHAR,
    total_input_tokens BIGINT, total_cached_input_tokens BIGINT, total_output_tokens BIGINT,
    total_reasoning_output_tokens BIGINT, total_tokens BIGINT,
    last_input_tokens BIGINT, last_cached_input_tokens BIGINT, last_output_tokens BIGINT,
    last_reasoning_output_tokens BIGINT, last_total_tokens BIGINT, model_context_window BIGINT,
    primary_used_percent DOUBLE, primary_window_minutes INTEGER, primary_resets_at TIMESTAMP,
    secondary_used_percent DOUBLE, secondary_window_minutes INTEGER, secondary_resets_at TIMESTAMP,
    plan_type VARCHAR
  )'
};

CREATE VIEW codex_logs AS
FROM vc_read_days(getvariable('vc_files_codex_logs'), getvariable('vc_parquet_codex_logs'), vc_codex_logs_columns());
COMMENT ON VIEW codex_logs IS 'Source codex-logs (all history; day = the day it was collected): Codex session headers (type session), turn contexts (turn: the model) and token_count events (tokens: cumulative total_* and last_* usage, rate limits), as written';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as codex_logs_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_codex_logs_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_codex_logs'), getvariable('vc_recent_parquet_codex_logs'), getvariable('vc_recent_tail_codex_logs'), getvariable('vc_tolerant'), vc_codex_logs_columns());
