-- mcp_agent_mail (source agent-mail), staged: the last successful run's snapshots per machine,
-- and the events of the recent window once each (an event read again is stored again under the
-- same key: the newest copy is kept).

CREATE VIEW v1.agent_mail_latest AS
SELECT m.* FROM agent_mail_recent m JOIN last_ok_runs l ON l.source = 'agent-mail' AND m.machine_id = l.machine_id AND m.run_id = l.run_id;
COMMENT ON VIEW v1.agent_mail_latest IS 'The rows of the last successful agent-mail run of each machine: a store row per store, its open items, unreleased reservations and recent agents (and the events that run read)';

CREATE VIEW v1.mail_stores AS
SELECT machine_id, collected_at, store, layout, coalesce(missing_columns, []::VARCHAR[]) AS missing_columns, last_message_id,
  agents_total, agents_live, urgent_unread_total, ack_pending_total, reservations_active_total
FROM agent_mail_latest WHERE "type" = 'store';
COMMENT ON VIEW v1.mail_stores IS 'Each machine''s mcp_agent_mail stores as last read: timestamp layout (text: Python server; integer: Rust port), columns it lacks, last message id, agents (live = not retired), urgent unread and pending acks of the last 7 days, active reservations';

CREATE VIEW v1.mail_open_items AS
SELECT machine_id, collected_at, store, project_id, project_slug, project_path, message_id, thread_id, subject,
  importance, importance_raw, ack_required, created_at, sender_id, sender_name,
  agent_id, agent_name, agent_program, agent_last_active_at, recipient_kind, read_at, ack_at,
  importance IN ('high', 'urgent') AS urgent,
  seconds_between(created_at, vc_now()) AS age_s
FROM agent_mail_latest WHERE "type" = 'open';
COMMENT ON VIEW v1.mail_open_items IS 'Per recipient and message, as last read: an urgent (high or urgent importance) message not read yet, or one awaiting an acknowledgement; messages of the last 7 days, recipients not retired, newest 500 per store';

CREATE VIEW v1.mail_held AS
SELECT machine_id, collected_at, store, reservation_id, project_id, project_slug, project_path, path_pattern, "exclusive", reason,
  agent_id, agent_name, agent_program, agent_last_active_at, agent_retired_at, created_at, expires_at
FROM agent_mail_latest WHERE "type" = 'held';
COMMENT ON VIEW v1.mail_held IS 'File reservations not released, as last read (including those expired less than a day ago: upstream does not release on expiry), with their holder''s program, last activity and retirement';

CREATE VIEW v1.mail_agents AS
SELECT machine_id, collected_at, store, agent_id, project_id, project_slug, project_path, agent_name, agent_program, agent_model,
  contact_policy, agent_inception_at, agent_last_active_at, agent_retired_at,
  seconds_between(agent_last_active_at, vc_now()) AS idle_s
FROM agent_mail_latest WHERE "type" = 'agent';
COMMENT ON VIEW v1.mail_agents IS 'mcp_agent_mail agents active in the last 7 days, as last read: program, model, contact policy, last activity, retirement';

CREATE VIEW v1.mail_messages AS
SELECT machine_id, collected_at, store, "key", message_id, ts AS created_at, project_id, project_slug, project_path, thread_id, topic,
  subject, body_chars, importance, importance_raw, ack_required, attachment_count, sender_id, sender_name
FROM agent_mail_recent WHERE "type" = 'message'
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.mail_messages IS 'mcp_agent_mail messages read in the recent window, once each: subject, importance (low, normal, high, urgent, other), ack required, body length (never the body), attachments';

CREATE VIEW v1.mail_receipts AS
SELECT machine_id, collected_at, store, "key", "type" AS receipt, message_id, agent_id, ts
FROM agent_mail_recent WHERE "type" IN ('read', 'ack')
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.mail_receipts IS 'mcp_agent_mail reads and acknowledgements read in the recent window, once each: message, recipient agent, when';

CREATE VIEW v1.mail_reservation_events AS
SELECT machine_id, collected_at, store, "key", CASE "type" WHEN 'reservation' THEN 'reserved' ELSE 'released' END AS event,
  reservation_id, ts, project_id, project_slug, agent_id, agent_name, path_pattern, "exclusive", reason, expires_at, released_at
FROM agent_mail_recent WHERE "type" IN ('reservation', 'release')
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.mail_reservation_events IS 'mcp_agent_mail file reservations made and released, read in the recent window, once each';
