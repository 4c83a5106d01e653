-- Sessions: ntm's tmux sessions and agents, cass's archive and index, per machine; what needs
-- attention first. Activity and the hourly timeline cover the last 24 hours from all history
-- (the days they can be in), the rest is each machine's latest answer.

-- name: day setup
CREATE OR REPLACE TEMP TABLE sessions_ntm_day AS
FROM ntm WHERE day >= (vc_now() - INTERVAL 24 HOUR)::DATE AND "type" = 'event';
CREATE OR REPLACE TEMP TABLE sessions_cass_day AS
FROM cass WHERE day >= (vc_now() - INTERVAL 24 HOUR)::DATE AND "type" IN ('timeline', 'bucket');

-- name: problems
SELECT f.machine_id, f.factor_id, f.subject, grade(f.value, t.warn, t.crit, t.higher_is_worse) AS severity,
  f.value, t.unit, f.title, f.summary, f.next, f.fix
FROM v1.sessions_factors f JOIN v1.health_thresholds t USING (factor_id)
WHERE grade(f.value, t.warn, t.crit, t.higher_is_worse) IN ('warn', 'crit')
ORDER BY severity_rank(severity) DESC, f.machine_id, f.factor_id, f.subject;

-- name: machines
SELECT * FROM v1.sessions_machines ORDER BY machine_id;

-- name: sessions
SELECT machine_id, "session", attached, agent_count, health_status, health_reason, agents, active, busy, idle, error_agents, stuck_agents
FROM v1.ntm_sessions ORDER BY machine_id, "session";

-- name: agents
SELECT machine_id, "session", pane, agent_type, state, in_error, stuck, last_output_age_s, context_percent, current_bead, pending_mail
FROM ntm_agents
ORDER BY in_error DESC, stuck DESC, machine_id, "session", try_cast(pane AS INTEGER) NULLS LAST, pane;

-- name: activity
SELECT machine_id, event_type, count(*) AS events, count(DISTINCT "session") AS sessions,
  sum(target_count) AS prompt_targets, sum(estimated_tokens) AS estimated_tokens, max(ts) AS last_at
FROM vc_ntm_events('sessions_ntm_day')
WHERE ts > vc_now() - INTERVAL 24 HOUR AND ts <= vc_now()
GROUP BY ALL ORDER BY machine_id, events DESC, event_type;

-- name: hourly
WITH n AS (
  SELECT machine_id, date_trunc('hour', ts) AS hour, count(*) AS ntm_events,
    count(*) FILTER (WHERE event_type = 'prompt_send') AS ntm_prompts
  FROM vc_ntm_events('sessions_ntm_day') WHERE ts > vc_now() - INTERVAL 24 HOUR AND ts <= vc_now() GROUP BY ALL
), c AS (
  SELECT machine_id, bucket_start AS hour, sum(sessions) AS cass_sessions, sum(messages) AS cass_messages
  FROM vc_cass_timeline('sessions_cass_day')
  WHERE bucket_hours = 1 AND bucket_start > vc_now() - INTERVAL 25 HOUR AND bucket_start <= vc_now() GROUP BY ALL
)
SELECT machine_id, hour, n.ntm_events, n.ntm_prompts, c.cass_sessions, c.cass_messages
FROM n FULL JOIN c USING (machine_id, hour)
ORDER BY machine_id, hour;

-- name: cass_agents
SELECT machine_id, agent, conversations, pct_of_conversations FROM v1.cass_agents ORDER BY machine_id, conversations DESC, agent;

-- name: cass_workspaces
SELECT machine_id, workspace, conversations FROM v1.cass_workspaces ORDER BY machine_id, conversations DESC, workspace;
