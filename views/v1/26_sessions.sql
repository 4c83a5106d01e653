-- Sessions: the agent sessions of each machine as ntm runs them (tmux sessions, agents and their
-- states, what was done with them) and as cass archives them (index health and freshness,
-- conversations, sessions started per hour); and the health factors they raise.

CREATE VIEW v1.sessions_machines AS
WITH m AS (SELECT machine_id FROM ntm_status UNION SELECT machine_id FROM v1.cass_health),
ag AS (
  SELECT machine_id, count(*) AS agents, count(*) FILTER (WHERE state = 'active') AS active,
    count(*) FILTER (WHERE state = 'busy') AS busy, count(*) FILTER (WHERE state = 'idle') AS idle,
    count(*) FILTER (WHERE in_error) AS in_error, count(*) FILTER (WHERE stuck) AS stuck
  FROM ntm_agents GROUP BY machine_id
),
ses AS (
  SELECT machine_id, count(*) FILTER (WHERE health_status IN ('warning', 'critical')) AS unhealthy_sessions
  FROM v1.ntm_sessions GROUP BY machine_id
),
act AS (
  SELECT machine_id, count(*) FILTER (WHERE event_type = 'prompt_send') AS prompts,
    count(*) FILTER (WHERE event_type IN ('agent_spawn', 'agent_add')) AS agents_spawned,
    count(*) FILTER (WHERE event_type = 'session_create') AS sessions_created, max(ts) AS last_event_at
  FROM v1.ntm_events WHERE ts > vc_recent_since() AND ts <= vc_now() GROUP BY machine_id
),
tl AS (
  SELECT machine_id, sum(sessions) AS sessions, sum(messages) AS messages
  FROM v1.cass_timeline WHERE bucket_start >= vc_now() - INTERVAL 24 HOUR AND bucket_start <= vc_now() GROUP BY machine_id
)
-- ntm's counts by state come from its agent rows where it gave them, else from its summary.
SELECT m.machine_id,
  n.collected_at AS ntm_collected_at, n.ntm_version, n.overall_status AS ntm_status, coalesce(n.error_code, n.snapshot_error_code) AS ntm_error,
  n.tmux_available, n.total_sessions AS ntm_sessions, n.attached_count AS attached_sessions, ses.unhealthy_sessions,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.agents, 0) ELSE n.total_agents END AS agents,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.active, 0) ELSE vc_ntm_count(n.agents_by_state, 'state', 'active') END AS agents_active,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.busy, 0) ELSE vc_ntm_count(n.agents_by_state, 'state', 'busy') END AS agents_busy,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.idle, 0) ELSE vc_ntm_count(n.agents_by_state, 'state', 'idle') END AS agents_idle,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.in_error, 0) ELSE n.error_agents_reported END AS agents_error,
  CASE WHEN n.agents_from IS NOT NULL THEN coalesce(ag.stuck, 0) END AS agents_stuck,
  -- Events are counted where ntm was collected: none in the window is a real 0 there.
  CASE WHEN n.machine_id IS NOT NULL THEN coalesce(act.prompts, 0) END AS prompts_recent,
  CASE WHEN n.machine_id IS NOT NULL THEN coalesce(act.agents_spawned, 0) END AS agents_spawned_recent,
  CASE WHEN n.machine_id IS NOT NULL THEN coalesce(act.sessions_created, 0) END AS sessions_created_recent,
  act.last_event_at,
  c.collected_at AS cass_collected_at, c.cass_version, c.status AS cass_status, c.healthy AS cass_healthy,
  c.index_status, c.last_indexed_at, round(c.index_age_s / 3600, 1) AS index_age_h, c.documents, c.conversations, c.messages,
  -- Known where the latest run got a timeline (none in it: a real 0).
  CASE WHEN c.timeline_to IS NOT NULL THEN coalesce(tl.sessions, 0) END AS cass_sessions_24h,
  CASE WHEN c.timeline_to IS NOT NULL THEN coalesce(tl.messages, 0) END AS cass_messages_24h,
  c.failed_commands AS cass_failed_commands
FROM m
LEFT JOIN ntm_status n USING (machine_id)
LEFT JOIN v1.cass_health c USING (machine_id)
LEFT JOIN ag USING (machine_id)
LEFT JOIN ses USING (machine_id)
LEFT JOIN act USING (machine_id)
LEFT JOIN tl USING (machine_id);
COMMENT ON VIEW v1.sessions_machines IS 'Per machine with ntm or cass: ntm''s status, sessions, agents by state (error, stuck), its events in the recent window (prompts, agents spawned, sessions created); cass''s health, index status and age in hours, conversations and messages archived, sessions started in the last 24 h, commands that failed';

-- The sessions health factors, in health_factors' shape (views/v1/30_health.sql adds them), each
-- with its triage title, next vc commands and an upstream command to run on the machine:
--   cass_index_stale    how old cass's index was when cass was asked (vc grades it: cass's own
--                       stale flag depends on a threshold whose default changed between versions);
--   cass_unhealthy      cass's health as a level (staleness alone is left to cass_index_stale);
--   ntm_agent_error     agents ntm reports in the error state, per machine;
--   ntm_agent_stuck     per agent ntm calls working, minutes without output;
--   ntm_session_health  ntm's own health of each session.
CREATE VIEW v1.sessions_factors AS
WITH cass AS (
  SELECT *,
    -- Not healthy for no other reason than a stale index.
    coalesce(NOT healthy AND len(errors) > 0 AND len(list_filter(errors, e -> e <> 'index stale')) = 0, false) AS only_stale
  FROM v1.cass_health
),
stale AS (
  SELECT machine_id, 'cass_index_stale' AS factor_id, NULL::VARCHAR AS subject, round(index_age_s / 3600, 1) AS value,
    format('cass''s index was {} old when cass was asked at {} UTC (last indexed {} UTC; index {}{})', human_age(index_age_s),
      strftime(collected_at, '%Y-%m-%d %H:%M'), coalesce(strftime(last_indexed_at, '%Y-%m-%d %H:%M'), '?'), coalesce(index_status, '?'),
      CASE WHEN watch_active THEN ', watch running' WHEN NOT watch_active THEN ', no watch running' ELSE '' END) AS summary,
    to_json({index_status: index_status, last_indexed_at: last_indexed_at, index_age_s: index_age_s, stale_threshold_s: stale_threshold_s,
      watch_active: watch_active, pending_sessions: pending_sessions, documents: documents, asked_at: collected_at}) AS evidence,
    format('{}: cass index {} h old', machine_id, round(index_age_s / 3600)::BIGINT) AS title,
    ['vc report sessions --md', vc_query_cmd(machine_id, 'status, index_status, last_indexed_at, index_age_s, watch_active, pending_sessions', 'cass_health', '')] AS next,
    'cass index' AS fix
  FROM cass WHERE index_age_s IS NOT NULL
),
unhealthy AS (
  SELECT machine_id, 'cass_unhealthy' AS factor_id, NULL::VARCHAR AS subject,
    CASE
      WHEN status IS NULL AND health_error IS NOT NULL THEN 2
      WHEN status IS NULL THEN NULL
      WHEN only_stale THEN 0
      WHEN health_level = 'critical' OR status IN ('unhealthy', 'stalled') OR coalesce(rebuild_stalled, false) THEN 2
      WHEN status = 'rebuilding' THEN 0
      WHEN NOT healthy OR status <> 'healthy' OR health_level = 'degraded' THEN 1
      ELSE 0 END AS value,
    CASE WHEN status IS NULL THEN format('cass health failed: {}', health_error)
      ELSE format('cass health says {}{}{}{}', status,
        CASE WHEN health_level IS NOT NULL AND health_level <> status THEN format(' (level {})', health_level) ELSE '' END,
        CASE WHEN len(errors) > 0 THEN ': ' || array_to_string(errors, '; ') ELSE '' END,
        CASE WHEN recommended_action IS NOT NULL THEN format('; cass recommends: {}', recommended_action) ELSE '' END) END AS summary,
    to_json({status: status, healthy: healthy, health_level: health_level, errors: errors, warnings: warnings,
      index_status: index_status, rebuilding: rebuilding, rebuild_stalled: rebuild_stalled, db_open_error: db_open_error,
      recommended_action: recommended_action, recommended_commands: recommended_commands, health_error: health_error,
      cass_version: cass_version, asked_at: collected_at}) AS evidence,
    format('{}: cass {}', machine_id, coalesce(status, 'health failing')) AS title,
    ['vc report sessions --md', vc_query_cmd(machine_id, 'status, health_level, errors, index_status, recommended_action, failed_commands', 'cass_health', '')] AS next,
    -- cass's own first recommendation where it made one.
    coalesce(recommended_commands[1], 'cass doctor check --json') AS fix
  FROM cass
),
ntm_errors AS (
  SELECT n.machine_id, 'ntm_agent_error' AS factor_id, NULL::VARCHAR AS subject,
    CASE WHEN any_value(n.agents_from) IS NOT NULL THEN count(a.pane) FILTER (WHERE a.in_error) ELSE any_value(n.error_agents_reported) END AS value,
    format('{} agents in the error state{}', CASE WHEN any_value(n.agents_from) IS NOT NULL THEN count(a.pane) FILTER (WHERE a.in_error) ELSE any_value(n.error_agents_reported) END,
      coalesce(': ' || string_agg(format('{}:{} ({})', a."session", a.pane, coalesce(a.agent_type, '?')), ', ' ORDER BY a."session", a.pane) FILTER (WHERE a.in_error), '')) AS summary,
    to_json({agents: coalesce(list({session: a."session", pane: a.pane, agent_type: a.agent_type, last_output_age_s: a.last_output_age_s}
      ORDER BY a."session", a.pane) FILTER (WHERE a.in_error), []), overall_status: any_value(n.overall_status),
      agents_from: any_value(n.agents_from)}) AS evidence,
    format('{}: {} ntm agents in error', n.machine_id, CASE WHEN any_value(n.agents_from) IS NOT NULL THEN count(a.pane) FILTER (WHERE a.in_error) ELSE any_value(n.error_agents_reported) END) AS title,
    ['vc report sessions --md', CASE WHEN any_value(n.agents_from) IS NOT NULL
      THEN vc_query_cmd(n.machine_id, 'session, pane, agent_type, state, last_output_age_s', 'ntm_agents', ' AND in_error')
      -- No agent rows (the snapshot failed): ntm's summary and why.
      ELSE vc_query_cmd(n.machine_id, 'overall_status, agents_by_state, snapshot_error_code, snapshot_message', 'ntm_status', '') END] AS next,
    -- A session name is spliced in only when it is a plain word.
    CASE WHEN regexp_full_match(min(a."session") FILTER (WHERE a.in_error), '[A-Za-z0-9._-]+')
      THEN format('ntm --robot-health={}', min(a."session") FILTER (WHERE a.in_error)) ELSE 'ntm --robot-status' END AS fix
  FROM ntm_status n LEFT JOIN ntm_agents a USING (machine_id)
  GROUP BY n.machine_id
  HAVING value IS NOT NULL
),
stuck AS (
  SELECT machine_id, 'ntm_agent_stuck' AS factor_id, format('{}:{}', "session", pane) AS subject, round(last_output_age_s / 60) AS value,
    format('{} in {}:{} is {} but has shown no output for {}', coalesce(agent_type, 'an agent'), "session", pane, state, human_age(last_output_age_s)) AS summary,
    to_json({session: "session", pane: pane, agent_type: agent_type, state: state, last_output_age_s: last_output_age_s,
      context_percent: context_percent, current_bead: current_bead}) AS evidence,
    format('{}: {} in {}:{} {} with no output for {} min', machine_id, coalesce(agent_type, 'agent'), "session", pane, state, round(last_output_age_s / 60)::BIGINT) AS title,
    ['vc report sessions --md', vc_query_cmd(machine_id, 'session, pane, agent_type, state, last_output_age_s', 'ntm_agents', ' AND working ORDER BY last_output_age_s DESC')] AS next,
    CASE WHEN regexp_full_match("session", '[A-Za-z0-9._-]+') THEN format('ntm --robot-health={}', "session") ELSE 'ntm --robot-status' END AS fix
  FROM ntm_agents WHERE working AND last_output_age_s IS NOT NULL
),
session_health AS (
  SELECT machine_id, 'ntm_session_health' AS factor_id, "session" AS subject,
    CASE health_status WHEN 'healthy' THEN 0 WHEN 'warning' THEN 1 WHEN 'critical' THEN 2 END AS value,
    format('ntm rates session {} {}{}', "session", health_status, coalesce(': ' || health_reason, '')) AS summary,
    to_json({session: "session", health_status: health_status, health_reason: health_reason, agent_count: agent_count,
      error_agents: error_agents, stuck_agents: stuck_agents, attached: attached}) AS evidence,
    format('{}: ntm session {} {}', machine_id, "session", health_status) AS title,
    ['vc report sessions --md', vc_query_cmd(machine_id, 'session, health_status, health_reason, agent_count, error_agents, stuck_agents', 'ntm_sessions', ' ORDER BY session')] AS next,
    CASE WHEN regexp_full_match("session", '[A-Za-z0-9._-]+') THEN format('ntm --robot-health={}', "session") ELSE 'ntm --robot-status' END AS fix
  FROM v1.ntm_sessions WHERE health_status IN ('healthy', 'warning', 'critical')
)
FROM stale UNION ALL BY NAME FROM unhealthy UNION ALL BY NAME FROM ntm_errors
UNION ALL BY NAME FROM stuck UNION ALL BY NAME FROM session_health;
COMMENT ON VIEW v1.sessions_factors IS 'Sessions health factors per machine: cass_index_stale (index age in hours), cass_unhealthy (cass health as a level), ntm_agent_error (agents in error), ntm_agent_stuck (a working agent without output, minutes), ntm_session_health (ntm''s rating of a session); each with title, next vc commands and an upstream fix';
