-- Mail: what mcp_agent_mail's agents leave waiting for each other. Urgent messages nobody read,
-- acknowledgements overdue, and file reservations that block others: about to expire, or held by
-- an agent that is retired, inactive, or has no agent process left in its project.

-- The policy, in minutes: an urgent message counts as unread after a grace, an ack is due within
-- the hour (upstream sets no deadline), a holder is inactive after an hour without a tool call
-- (reservations last an hour by default upstream), a reservation expires soon within 15 minutes.
CREATE MACRO vc_mail_unread_grace_minutes() AS 15;
CREATE MACRO vc_mail_ack_due_minutes() AS 60;
CREATE MACRO vc_mail_holder_idle_minutes() AS 60;
CREATE MACRO vc_mail_expiring_minutes() AS 15;

CREATE VIEW v1.mail_urgent_unread AS
SELECT machine_id, store, project_slug, project_path, agent_id, agent_name, agent_program, message_id, subject, importance,
  sender_name, thread_id, created_at, age_s, age_s >= vc_mail_unread_grace_minutes() * 60 AS past_grace
FROM v1.mail_open_items WHERE urgent AND read_at IS NULL;
COMMENT ON VIEW v1.mail_urgent_unread IS 'Urgent or high-importance messages a (not retired) recipient has not read, with their age; past_grace once unread for vc_mail_unread_grace_minutes()';

CREATE VIEW v1.mail_ack_overdue AS
SELECT machine_id, store, project_slug, project_path, agent_id, agent_name, agent_program, message_id, subject, importance,
  sender_name, thread_id, created_at, read_at, age_s, age_s - vc_mail_ack_due_minutes() * 60 AS overdue_s
FROM v1.mail_open_items WHERE ack_required AND ack_at IS NULL AND age_s >= vc_mail_ack_due_minutes() * 60;
COMMENT ON VIEW v1.mail_ack_overdue IS 'Messages that asked for an acknowledgement the recipient has not given within vc_mail_ack_due_minutes(), with whether it was read and how long overdue';

-- A holder is dead when the machine's agents collector sees no coding agent running in the
-- project's directory (unknown when that collector has not run there, or the project has no path).
CREATE VIEW v1.mail_reservations AS
WITH agents_known AS (SELECT DISTINCT machine_id FROM last_ok_runs WHERE source = 'agents'),
r AS (
  SELECT h.*,
    CASE WHEN h.expires_at > vc_now() THEN 'active' ELSE 'expired' END AS state,
    seconds_between(vc_now(), h.expires_at) AS expires_in_s,
    h.agent_retired_at IS NOT NULL AS holder_retired,
    h.agent_last_active_at < vc_now() - to_minutes(vc_mail_holder_idle_minutes()) AS holder_inactive,
    CASE WHEN k.machine_id IS NULL OR h.project_path IS NULL THEN NULL
      ELSE NOT EXISTS (SELECT 1 FROM agent_processes p WHERE p.machine_id = h.machine_id
        AND (p.cwd = h.project_path OR starts_with(p.cwd, rtrim(h.project_path, '/') || '/'))) END AS holder_dead
  FROM v1.mail_held h LEFT JOIN agents_known k USING (machine_id)
)
SELECT machine_id, collected_at, store, reservation_id, project_id, project_slug, project_path, path_pattern, "exclusive", reason,
  agent_id, agent_name, agent_program, agent_last_active_at, agent_retired_at, created_at, expires_at, state, expires_in_s,
  state = 'active' AND expires_in_s <= vc_mail_expiring_minutes() * 60 AS expiring_soon,
  holder_retired, holder_inactive, holder_dead,
  CASE WHEN holder_retired THEN 'retired' WHEN holder_dead THEN 'dead' WHEN holder_inactive THEN 'inactive' ELSE 'active' END AS holder_state,
  state = 'active' AND (holder_retired OR coalesce(holder_dead, false) OR coalesce(holder_inactive, false)) AS stale
FROM r;
COMMENT ON VIEW v1.mail_reservations IS 'Unreleased file reservations: active or expired (not released), expiring soon (vc_mail_expiring_minutes()), and the holder''s state: retired, dead (no agent process in the project''s directory on the machine), inactive (no activity for vc_mail_holder_idle_minutes()) or active; stale = active and held by a holder that is not';

CREATE VIEW v1.mail_activity AS
WITH m AS (
  SELECT machine_id, store, project_slug, count(*) AS messages, count(*) FILTER (WHERE importance IN ('high', 'urgent')) AS urgent,
    count(*) FILTER (WHERE ack_required) AS ack_required, count(DISTINCT sender_id) AS senders, max(created_at) AS last_message_at
  FROM v1.mail_messages WHERE created_at > vc_recent_since() GROUP BY ALL
), r AS (
  SELECT c.machine_id, c.store, m.project_slug, count(*) FILTER (WHERE c.receipt = 'read') AS reads,
    count(*) FILTER (WHERE c.receipt = 'ack') AS acks,
    median(seconds_between(m.created_at, c.ts)) FILTER (WHERE c.receipt = 'ack') AS median_ack_s
  FROM v1.mail_receipts c JOIN v1.mail_messages m ON m.machine_id = c.machine_id AND m.store = c.store AND m.message_id = c.message_id
  WHERE c.ts > vc_recent_since() GROUP BY ALL
)
SELECT coalesce(m.machine_id, r.machine_id) AS machine_id, coalesce(m.store, r.store) AS store,
  coalesce(m.project_slug, r.project_slug) AS project_slug, coalesce(m.messages, 0) AS messages, coalesce(m.urgent, 0) AS urgent,
  coalesce(m.ack_required, 0) AS ack_required, coalesce(m.senders, 0) AS senders, m.last_message_at,
  coalesce(r.reads, 0) AS reads, coalesce(r.acks, 0) AS acks, r.median_ack_s
FROM m FULL JOIN r ON m.machine_id = r.machine_id AND m.store = r.store AND m.project_slug IS NOT DISTINCT FROM r.project_slug;
COMMENT ON VIEW v1.mail_activity IS 'Per machine, store and project over the recent window: messages sent (urgent, ack required, senders), reads and acks of those messages, and the median time to an ack';

-- The mail health factors, in health_factors' shape (views/v1/30_health.sql adds them):
--   mail_urgent_unread       per recipient: urgent messages unread past the grace;
--   mail_ack_overdue         per recipient: acks overdue;
--   mail_stale_reservations  per project: active reservations whose holder is retired, dead or inactive.
-- Only agent ids and machine ids reach the commands: names and paths are upstream data.
CREATE VIEW v1.mail_factors AS
WITH urgent AS (
  SELECT machine_id, 'mail_urgent_unread' AS factor_id, format('{} in {}', agent_name, project_slug) AS subject, count(*) AS value,
    format('{} has {} urgent message{} unread for over {} min; the oldest, "{}" from {}, for {}', agent_name, count(*),
      CASE WHEN count(*) = 1 THEN '' ELSE 's' END, vc_mail_unread_grace_minutes(), arg_max(subject, age_s), arg_max(sender_name, age_s),
      human_age(max(age_s))) AS summary,
    to_json({store: store, project: project_slug, agent_id: agent_id, agent: agent_name, program: any_value(agent_program),
      messages: list({message_id: message_id, subject: subject, importance: importance, sender: sender_name, created_at: created_at} ORDER BY created_at)[1:10]}) AS evidence,
    format('{}: {} has {} urgent unread message{}', machine_id, agent_name, count(*), CASE WHEN count(*) = 1 THEN '' ELSE 's' END) AS title,
    ['vc report mail --md', vc_query_cmd(machine_id, 'agent_name, message_id, subject, sender_name, age_s', 'mail_urgent_unread', format(' AND agent_id = {} ORDER BY age_s DESC', agent_id))] AS next
  FROM v1.mail_urgent_unread WHERE past_grace
  GROUP BY machine_id, store, project_slug, agent_id, agent_name
),
overdue AS (
  SELECT machine_id, 'mail_ack_overdue' AS factor_id, format('{} in {}', agent_name, project_slug) AS subject, count(*) AS value,
    format('{} owes {} acknowledgement{}{}; the oldest, "{}" from {}, is {} overdue', agent_name, count(*),
      CASE WHEN count(*) = 1 THEN '' ELSE 's' END,
      CASE WHEN count(*) FILTER (WHERE read_at IS NULL) > 0 THEN format(' ({} not read yet)', count(*) FILTER (WHERE read_at IS NULL)) ELSE '' END,
      arg_max(subject, overdue_s),
      arg_max(sender_name, overdue_s), human_age(max(overdue_s))) AS summary,
    to_json({store: store, project: project_slug, agent_id: agent_id, agent: agent_name, program: any_value(agent_program),
      messages: list({message_id: message_id, subject: subject, sender: sender_name, created_at: created_at, read_at: read_at} ORDER BY created_at)[1:10]}) AS evidence,
    format('{}: {} has {} acknowledgement{} overdue', machine_id, agent_name, count(*), CASE WHEN count(*) = 1 THEN '' ELSE 's' END) AS title,
    ['vc report mail --md', vc_query_cmd(machine_id, 'agent_name, message_id, subject, sender_name, read_at, overdue_s', 'mail_ack_overdue', format(' AND agent_id = {} ORDER BY overdue_s DESC', agent_id))] AS next
  FROM v1.mail_ack_overdue
  GROUP BY machine_id, store, project_slug, agent_id, agent_name
),
stale AS (
  SELECT machine_id, 'mail_stale_reservations' AS factor_id, project_slug AS subject, count(*) AS value,
    format('{} active reservation{} in {} held by agents that are {}: {}', count(*), CASE WHEN count(*) = 1 THEN '' ELSE 's' END,
      coalesce(any_value(project_path), project_slug), string_agg(DISTINCT holder_state, ', ' ORDER BY holder_state),
      string_agg(format('{} ({}, {}, expires in {})', path_pattern, agent_name, holder_state, human_age(expires_in_s)), '; ' ORDER BY expires_at)) AS summary,
    to_json({store: store, project: project_slug, project_path: any_value(project_path),
      reservations: list({reservation_id: reservation_id, path_pattern: path_pattern, exclusive: "exclusive", agent: agent_name,
        holder_state: holder_state, agent_last_active_at: agent_last_active_at, expires_at: expires_at} ORDER BY expires_at)}) AS evidence,
    format('{}: {} stale file reservation{} in {}', machine_id, count(*), CASE WHEN count(*) = 1 THEN '' ELSE 's' END, project_slug) AS title,
    ['vc report mail --md', vc_query_cmd(machine_id, 'project_slug, path_pattern, agent_name, holder_state, expires_at', 'mail_reservations',
      format(' AND stale{} ORDER BY expires_at', CASE WHEN project_id IS NOT NULL THEN format(' AND project_id = {}', project_id) ELSE '' END))] AS next
  FROM v1.mail_reservations WHERE stale
  GROUP BY machine_id, store, project_id, project_slug
)
FROM urgent UNION ALL BY NAME FROM overdue UNION ALL BY NAME FROM stale;
COMMENT ON VIEW v1.mail_factors IS 'Mail health factors: mail_urgent_unread and mail_ack_overdue per recipient agent, mail_stale_reservations per project (active reservations held by retired, dead or inactive agents), with triage titles and next commands';
