-- Source `gemini-logs` (gemini_logs): Gemini CLI session headers and model messages with tokens,
-- every re-appended copy of a message included (lib/sources/gemini-logs.ts). The last copy per
-- message id counts (views/v1/60_usage.sql).

CREATE MACRO vc_gemini_logs_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, file VARCHAR, byte_offset BIGINT, project VARCHAR, session_id VARCHAR,
    project_hash VARCHAR, session_kind VARCHAR, start_time TIMESTAMP, message_id VARCHAR, ts TIMESTAMP,
    model VARCHAR, input_tokens BIGINT, output_tokens BIGINT, cached_tokens BIGINT, thoughts_tokens BIGINT,
    tool_tokens BIGINT, total_tokens BIGINT
  )'
};

CREATE VIEW gemini_logs AS
FROM vc_read_days(getvariable('vc_files_gemini_logs'), getvariable('vc_parquet_gemini_logs'), vc_gemini_logs_columns());
COMMENT ON VIEW gemini_logs IS 'Source gemini-logs (all history; day = the day it was collected): Gemini session headers (type session) and model messages with tokens (type message), every re-appended copy included';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as gemini_logs_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_gemini_logs_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_gemini_logs'), getvariable('vc_recent_parquet_gemini_logs'), getvariable('vc_recent_tail_gemini_logs'), getvariable('vc_tolerant'), vc_gemini_logs_columns());
