-- Source `agent-mail` (agent_mail): what mcp_agent_mail's SQLite store held (lib/sources/agent-mail.ts).
-- Events, once each by natural key: message, recipient, read, ack, reservation, release. Snapshots,
-- every run: store (layout, totals), open (urgent unread, acks pending), held (unreleased
-- reservations), agent. Message bodies and registration tokens are never read.

CREATE MACRO vc_agent_mail_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, store VARCHAR, ts TIMESTAMP,
    project_id BIGINT, project_slug VARCHAR, project_path VARCHAR,
    message_id BIGINT, thread_id VARCHAR, topic VARCHAR, subject VARCHAR, body_chars BIGINT,
    importance VARCHAR, importance_raw VARCHAR, ack_required BOOLEAN, attachment_count BIGINT,
    sender_id BIGINT, sender_name VARCHAR,
    agent_id BIGINT, agent_name VARCHAR, agent_program VARCHAR, agent_model VARCHAR, contact_policy VARCHAR,
    agent_inception_at TIMESTAMP, agent_last_active_at TIMESTAMP, agent_retired_at TIMESTAMP,
    recipient_kind VARCHAR, read_at TIMESTAMP, ack_at TIMESTAMP,
    reservation_id BIGINT, path_pattern VARCHAR, "exclusive" BOOLEAN, reason VARCHAR,
    created_at TIMESTAMP, expires_at TIMESTAMP, released_at TIMESTAMP,
    layout VARCHAR, missing_columns VARCHAR[], last_message_id BIGINT, agents_total BIGINT, agents_live BIGINT,
    urgent_unread_total BIGINT, ack_pending_total BIGINT, reservations_active_total BIGINT
  )'
};

CREATE VIEW agent_mail AS
FROM vc_read_days(getvariable('vc_files_agent_mail'), getvariable('vc_parquet_agent_mail'), vc_agent_mail_columns());
COMMENT ON VIEW agent_mail IS 'Source agent-mail (all history; day = the day it was collected): mcp_agent_mail events (message, recipient, read, ack, reservation, release; deduplicate on key) and per-run snapshots (store, open, held, agent)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as agent_mail_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_agent_mail_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_agent_mail'), getvariable('vc_recent_parquet_agent_mail'), getvariable('vc_recent_tail_agent_mail'), getvariable('vc_tolerant'), vc_agent_mail_columns());
