-- Source `claude-logs` (claude_logs): one fact per Claude Code log line that carries usage
-- (lib/sources/claude-logs.ts). Dedup and cost are in views/v1/60_usage.sql.

-- The stored line's columns, typed once.
CREATE MACRO vc_claude_logs_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    file VARCHAR, byte_offset BIGINT, ts TIMESTAMP, session_id VARCHAR, cwd VARCHAR, version VARCHAR,
    is_sidechain BOOLEAN, is_api_error BOOLEAN, message_id VARCHAR, request_id VARCHAR, model VARCHAR,
    speed VARCHAR, input_tokens BIGINT, output_tokens BIGINT, cache_creation_tokens BIGINT,
    cache_creation_5m_tokens BIGINT, cache_creation_1h_tokens BIGINT, cache_read_tokens BIGINT, cost_usd DOUBLE
  )'
};

CREATE VIEW claude_logs AS
FROM vc_read_days(getvariable('vc_files_claude_logs'), getvariable('vc_parquet_claude_logs'), vc_claude_logs_columns());
COMMENT ON VIEW claude_logs IS 'Source claude-logs (all history; day = the day it was collected): one row per Claude Code log line with usage, as written (duplicates included; see usage_entries)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as claude_logs_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_claude_logs_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_claude_logs'), getvariable('vc_recent_parquet_claude_logs'), getvariable('vc_recent_tail_claude_logs'), getvariable('vc_tolerant'), vc_claude_logs_columns());
