-- name: machines
SELECT m.machine_id,
  (SELECT count(*) FROM v1.agent_sessions s WHERE s.machine_id = m.machine_id) AS tmux_sessions,
  (SELECT count(*) FROM v1.agent_processes a WHERE a.machine_id = m.machine_id) AS agents,
  (SELECT count(*) FROM v1.agent_processes a WHERE a.machine_id = m.machine_id AND a.status = 'active') AS active,
  (SELECT count(*) FROM v1.agent_processes a WHERE a.machine_id = m.machine_id AND a.status = 'idle') AS idle,
  (SELECT count(*) FROM v1.agent_processes a WHERE a.machine_id = m.machine_id AND a.status IN ('stopped', 'zombie')) AS stopped,
  (SELECT count(*) FROM v1.agent_panes p WHERE p.machine_id = m.machine_id AND p.agent_dead) AS dead_panes
FROM v1.last_ok_runs m WHERE m.source = 'agents' ORDER BY m.machine_id;

-- name: agents
SELECT machine_id, agent, pid, status, state, idle_s, recent_cpu_pct, cpu_seconds, rss_bytes, age_s, started_at,
  session, window_index, pane_index, cwd, args
FROM v1.agent_processes
ORDER BY CASE status WHEN 'zombie' THEN 0 WHEN 'stopped' THEN 1 WHEN 'idle' THEN 2 WHEN 'new' THEN 3 ELSE 4 END,
  idle_s DESC NULLS LAST, machine_id, pid;

-- name: sessions
SELECT machine_id, session, session_windows, session_attached, session_created_at, session_activity_at,
  panes, agents, idle_agents, dead_panes
FROM v1.agent_sessions ORDER BY machine_id, session;

-- name: dead_panes
SELECT machine_id, session, window_index, pane_index, pane_id, last_agent, had_agent_at, pane_command, pane_path, pane_dead
FROM v1.agent_panes WHERE agent_dead ORDER BY machine_id, session, window_index, pane_index;
