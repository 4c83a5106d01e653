-- ntm: its latest answer per machine (sessions, agents, overall status) and its events, deduplicated.

CREATE VIEW v1.ntm_latest AS
SELECT n.* FROM ntm_recent n JOIN last_ok_runs l ON l.source = 'ntm' AND n.machine_id = l.machine_id AND n.run_id = l.run_id
WHERE n."type" <> 'event';
COMMENT ON VIEW v1.ntm_latest IS 'The state rows of the last successful ntm run of each machine: its run row, a session row per tmux session, an agent row per agent';

-- A count of ntm's summary (agents_by_state, alert_counts, ...): NULL when ntm gave no summary.
CREATE MACRO vc_ntm_count(counts, field, value) AS
  CASE WHEN counts IS NULL THEN NULL
    ELSE coalesce(list_sum(list_transform(list_filter(counts, x -> struct_extract(x, field) = value), x -> x."count")), 0) END;

CREATE VIEW v1.ntm_status AS
SELECT machine_id, collected_at, ntm_version, tmux_available, overall_status, health_score,
  total_sessions, total_agents, attached_count, agents_by_state, agents_by_type, alert_counts, alerts_active,
  mail_unread, mail_urgent, ready_work, in_progress, degraded_sources,
  vc_ntm_count(agents_by_state, 'state', 'error') AS error_agents_reported,
  exit_code, error_code, message, snapshot_exit_code, snapshot_error_code, snapshot_message, agents_from,
  schema_version, snapshot_schema_version
FROM v1.ntm_latest WHERE "type" = 'run';
COMMENT ON VIEW v1.ntm_status IS 'Per machine, ntm''s latest summary: overall_status (healthy, degraded, critical), health_score 0-1, session and agent counts (by state, by type), alerts, mail, degraded sources; the failure of --robot-status (error_code, message) or --robot-snapshot (snapshot_error_code, e.g. tmux missing); agents_from says where the agent rows came from (NULL: none)';

-- An agent is `stuck` when ntm says it is working (active, busy, compacting) yet its pane has shown
-- no output for the ntm_agent_stuck warn threshold: ntm has no such state of its own.
CREATE VIEW v1.ntm_agents AS
WITH t AS (SELECT warn * 60 AS stuck_s FROM v1.health_thresholds WHERE factor_id = 'ntm_agent_stuck')
SELECT machine_id, collected_at, "session", pane, agent_type, variant, state, is_active, last_output_age_s,
  context_percent, current_bead, pending_mail, output_tail_lines, type_confidence, type_method,
  coalesce(state = 'error', false) AS in_error,
  coalesce(state IN ('active', 'busy', 'compacting'), false) AS working,
  coalesce(state IN ('active', 'busy', 'compacting') AND last_output_age_s >= (SELECT stuck_s FROM t), false) AS stuck
FROM v1.ntm_latest WHERE "type" = 'agent';
COMMENT ON VIEW v1.ntm_agents IS 'Agents in ntm''s tmux sessions, per machine: session, pane, agent_type, state (idle, active, busy, error, compacting, unknown), seconds since the pane''s last output (NULL: unknown), context %, bead, pending mail; in_error, working, and stuck (working with no output for the ntm_agent_stuck warn threshold)';

CREATE VIEW v1.ntm_sessions AS
WITH a AS (
  SELECT machine_id, "session", count(*) AS agents,
    count(*) FILTER (WHERE state = 'active') AS active, count(*) FILTER (WHERE state = 'busy') AS busy,
    count(*) FILTER (WHERE state = 'idle') AS idle, count(*) FILTER (WHERE in_error) AS error_agents,
    count(*) FILTER (WHERE stuck) AS stuck_agents
  FROM ntm_agents GROUP BY ALL
)
-- Without agent rows (the snapshot failed) the per-state counts are unknown, not 0.
SELECT s.machine_id, s.collected_at, s."session", s.attached, s.agent_count, s.health_status, s.health_reason,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.agents, 0) END AS agents,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.active, 0) END AS active,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.busy, 0) END AS busy,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.idle, 0) END AS idle,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.error_agents, 0) END AS error_agents,
  CASE WHEN r.agents_from IS NOT NULL THEN coalesce(a.stuck_agents, 0) END AS stuck_agents
FROM v1.ntm_latest s
JOIN ntm_status r USING (machine_id)
LEFT JOIN a ON a.machine_id = s.machine_id AND a."session" = s."session"
WHERE s."type" = 'session';
COMMENT ON VIEW v1.ntm_sessions IS 'ntm''s tmux sessions per machine: attached, agent_count (ntm''s), ntm''s health of it (healthy, warning, critical, unknown) with its reason, and the agents in it by state, in error and stuck (NULL when ntm gave no per-agent data)';

-- Events once each (a line read again after ntm rewrites its log has the same key).
CREATE MACRO vc_ntm_events(src) AS TABLE
SELECT machine_id, collected_at, "key", ts, event_type, "session", agent_name, correlation_id, agent_type, model, pane,
  target_count, prompt_length, estimated_tokens, work_dir, error_code, message
FROM query_table(src) WHERE "type" = 'event'
QUALIFY row_number() OVER (PARTITION BY machine_id, "key" ORDER BY collected_at) = 1;

CREATE VIEW v1.ntm_events AS FROM vc_ntm_events('ntm_recent');
COMMENT ON VIEW v1.ntm_events IS 'ntm''s events.jsonl lines read in the recent window, once each: ts, event_type (session_create, agent_spawn, agent_add, prompt_send, error, ...), session, agent_type, prompt targets and estimated tokens';

CREATE MACRO vc_ntm_activity(events) AS TABLE
SELECT machine_id, date_trunc('hour', ts) AS hour, event_type, count(*) AS events, count(DISTINCT "session") AS sessions,
  sum(target_count) AS prompt_targets, sum(estimated_tokens) AS estimated_tokens
FROM query_table(events) GROUP BY ALL;

CREATE VIEW v1.ntm_activity AS FROM vc_ntm_activity('v1.ntm_events');
COMMENT ON VIEW v1.ntm_activity IS 'ntm activity per machine, hour (UTC) and event type over the recent window: events, distinct sessions, prompt targets (panes a prompt went to) and ntm''s estimated prompt tokens';
