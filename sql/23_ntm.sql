-- Source `ntm` (ntm): what ntm's robot mode said on each run (lib/sources/ntm.ts): a `run` row
-- (overall status, summary counts, a failure of --robot-status or --robot-snapshot), a `session`
-- row per tmux session it manages (ntm's health of it), an `agent` row per agent (type, state,
-- seconds since its last output); plus an `event` row per line of its events.jsonl (kind event,
-- keyed by the line: read again after ntm rewrites the file, it is stored again under the same key).

CREATE MACRO vc_ntm_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, exit_code INTEGER, envelope_version VARCHAR, schema_version VARCHAR, generated_at TIMESTAMP,
    ntm_version VARCHAR, tmux_available BOOLEAN, overall_status VARCHAR, health_score DOUBLE,
    total_sessions INTEGER, total_agents INTEGER, attached_count INTEGER,
    agents_by_state STRUCT(state VARCHAR, "count" INTEGER)[], agents_by_type STRUCT(agent_type VARCHAR, "count" INTEGER)[],
    alert_counts STRUCT(severity VARCHAR, "count" INTEGER)[],
    alerts_active INTEGER, mail_unread INTEGER, mail_urgent INTEGER, ready_work INTEGER, in_progress INTEGER,
    degraded_sources VARCHAR[], error_code VARCHAR, message VARCHAR,
    snapshot_exit_code INTEGER, snapshot_schema_version VARCHAR, snapshot_error_code VARCHAR, snapshot_message VARCHAR,
    agents_from VARCHAR, "session" VARCHAR, attached BOOLEAN, agent_count INTEGER, health_status VARCHAR, health_reason VARCHAR,
    pane VARCHAR, agent_type VARCHAR, variant VARCHAR, type_confidence DOUBLE, type_method VARCHAR, state VARCHAR,
    is_active BOOLEAN, last_output_age_s BIGINT, output_tail_lines INTEGER, context_percent DOUBLE, current_bead VARCHAR,
    pending_mail INTEGER, ts TIMESTAMP, event_type VARCHAR, agent_name VARCHAR, correlation_id VARCHAR, model VARCHAR,
    target_count INTEGER, prompt_length BIGINT, estimated_tokens BIGINT, work_dir VARCHAR
  )'
};

CREATE VIEW ntm AS
FROM vc_read_days(getvariable('vc_files_ntm'), getvariable('vc_parquet_ntm'), vc_ntm_columns());
COMMENT ON VIEW ntm IS 'Source ntm (all history; day = the day it was collected): per run of ntm --robot-status/--robot-snapshot a run row (overall_status, summary counts, error_code), a session row per tmux session (health_status), an agent row per agent (agent_type, state, last_output_age_s); an event row per events.jsonl line (ts, event_type), duplicates included (see v1.ntm_events)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as ntm_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_ntm_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_ntm'), getvariable('vc_recent_parquet_ntm'), getvariable('vc_recent_tail_ntm'), getvariable('vc_tolerant'), vc_ntm_columns());
