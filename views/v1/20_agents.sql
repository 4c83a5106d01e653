-- Agent processes and tmux panes, with activity derived from CPU time between snapshots.

-- Per process (pid + start time = identity across snapshots): when it last used CPU.
CREATE VIEW v1.agent_activity AS
WITH p AS (
  SELECT machine_id, collected_at, pid, started_at, cpu_seconds,
    cpu_seconds - lag(cpu_seconds) OVER w AS cpu_delta,
    seconds_between(lag(collected_at) OVER w, collected_at) AS dt
  FROM agents_recent WHERE "type" = 'process'
  WINDOW w AS (PARTITION BY machine_id, pid, started_at ORDER BY collected_at)
)
SELECT machine_id, pid, started_at, count(*) AS samples, min(collected_at) AS first_seen_at,
  -- More than 0.05 s of CPU between two snapshots counts as activity (a waiting agent uses ~0).
  max(collected_at) FILTER (WHERE cpu_delta > 0.05) AS last_active_at,
  arg_max(CASE WHEN dt > 0 THEN round(100 * greatest(cpu_delta, 0) / dt, 1) END, collected_at) AS recent_cpu_pct
FROM p GROUP BY machine_id, pid, started_at;
COMMENT ON VIEW v1.agent_activity IS 'Per agent process: snapshots seen, first seen, last snapshot with CPU use, CPU % since the previous snapshot';

CREATE VIEW v1.agent_processes AS
WITH t AS (SELECT warn * 60 AS idle_s FROM v1.health_thresholds WHERE factor_id = 'agent_idle')
SELECT a.machine_id, a.collected_at, a.agent, a.pid, a.ppid, a.state, a.cwd, a.args, a."user",
  a.session, a.window_index, a.pane_index, a.pane_id, a.cpu_seconds, a.rss_bytes, a.started_at,
  seconds_between(a.started_at, a.collected_at) AS age_s,
  act.recent_cpu_pct, act.last_active_at,
  -- Idle time needs two snapshots; before that it is unknown, not zero.
  CASE WHEN act.samples >= 2 THEN seconds_between(coalesce(act.last_active_at, act.first_seen_at), a.collected_at) END AS idle_s,
  CASE
    WHEN a.state IN ('T', 't') THEN 'stopped'
    WHEN a.state = 'Z' THEN 'zombie'
    WHEN act.samples < 2 OR act.samples IS NULL THEN 'new'
    WHEN seconds_between(coalesce(act.last_active_at, act.first_seen_at), a.collected_at) >= (SELECT idle_s FROM t) THEN 'idle'
    ELSE 'active' END AS status
FROM latest_agents a
LEFT JOIN v1.agent_activity act USING (machine_id, pid, started_at)
WHERE a."type" = 'process';
COMMENT ON VIEW v1.agent_processes IS 'Running coding agents per machine with pane, cwd, CPU, memory, age, idle time and status (active, idle, new, stopped, zombie)';

-- A pane whose agent is gone: it had one in a snapshot of the recent window and has none now.
CREATE VIEW v1.agent_panes AS
WITH had AS (
  SELECT machine_id, session, pane_id, max(collected_at) AS had_agent_at, arg_max(agent, collected_at) AS last_agent
  FROM agents_recent
  WHERE "type" = 'pane' AND agent IS NOT NULL AND collected_at >= vc_recent_since()
  GROUP BY ALL
)
SELECT p.machine_id, p.collected_at, p.session, p.window_index, p.window_name, p.pane_index, p.pane_id,
  p.pane_pid, p.pane_command, p.pane_path, p.pane_dead, p.pane_activity_at, p.agent,
  had.had_agent_at, had.last_agent,
  (p.agent IS NULL AND (had.had_agent_at IS NOT NULL OR coalesce(p.pane_dead, false))) AS agent_dead
FROM latest_agents p
LEFT JOIN had ON had.machine_id = p.machine_id AND had.session IS NOT DISTINCT FROM p.session AND had.pane_id = p.pane_id
WHERE p."type" = 'pane';
COMMENT ON VIEW v1.agent_panes IS 'tmux panes per machine with the agent running in each, and agent_dead when its agent exited (seen in the recent window) or the pane is dead';

CREATE VIEW v1.agent_sessions AS
WITH p AS (
  SELECT machine_id, session, count(*) AS panes, count(*) FILTER (WHERE agent_dead) AS dead_panes
  FROM agent_panes GROUP BY ALL
), a AS (
  SELECT machine_id, session, count(*) AS agents, count(*) FILTER (WHERE status = 'idle') AS idle_agents
  FROM agent_processes GROUP BY ALL
)
SELECT s.machine_id, s.collected_at, s.session, s.session_created_at, s.session_activity_at, s.session_attached,
  s.session_windows, coalesce(p.panes, 0) AS panes, coalesce(a.agents, 0) AS agents,
  coalesce(a.idle_agents, 0) AS idle_agents, coalesce(p.dead_panes, 0) AS dead_panes
FROM latest_agents s
LEFT JOIN p ON p.machine_id = s.machine_id AND p.session = s.session
LEFT JOIN a ON a.machine_id = s.machine_id AND a.session = s.session
WHERE s."type" = 'session';
COMMENT ON VIEW v1.agent_sessions IS 'tmux sessions per machine with counts of panes, agents, idle agents and panes whose agent died';

CREATE VIEW v1.agent_machines AS
WITH a AS (
  SELECT machine_id, count(*) AS agents, count(*) FILTER (WHERE status = 'active') AS active,
    count(*) FILTER (WHERE status = 'idle') AS idle, count(*) FILTER (WHERE status IN ('stopped', 'zombie')) AS stopped
  FROM agent_processes GROUP BY machine_id
), s AS (SELECT machine_id, count(*) AS tmux_sessions FROM v1.agent_sessions GROUP BY machine_id),
p AS (SELECT machine_id, count(*) FILTER (WHERE agent_dead) AS dead_panes FROM agent_panes GROUP BY machine_id)
SELECT l.machine_id, l.ended_at AS collected_at, coalesce(s.tmux_sessions, 0) AS tmux_sessions, coalesce(a.agents, 0) AS agents,
  coalesce(a.active, 0) AS active, coalesce(a.idle, 0) AS idle, coalesce(a.stopped, 0) AS stopped, coalesce(p.dead_panes, 0) AS dead_panes
FROM last_ok_runs l LEFT JOIN a USING (machine_id) LEFT JOIN s USING (machine_id) LEFT JOIN p USING (machine_id)
WHERE l.source = 'agents';
COMMENT ON VIEW v1.agent_machines IS 'Per machine: tmux sessions, agents by status (active, idle, stopped) and panes whose agent exited';
