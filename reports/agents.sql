-- name: machines
SELECT * FROM v1.agent_machines ORDER BY machine_id;

-- name: agents
SELECT machine_id, agent, pid, status, state, idle_s, recent_cpu_pct, cpu_seconds, rss_bytes, age_s, started_at,
  session, window_index, pane_index, cwd, args
FROM agent_processes
ORDER BY CASE status WHEN 'zombie' THEN 0 WHEN 'stopped' THEN 1 WHEN 'idle' THEN 2 WHEN 'new' THEN 3 ELSE 4 END,
  idle_s DESC NULLS LAST, machine_id, pid;

-- name: sessions
SELECT machine_id, session, session_windows, session_attached, session_created_at, session_activity_at,
  panes, agents, idle_agents, dead_panes
FROM v1.agent_sessions ORDER BY machine_id, session;

-- name: dead_panes
SELECT machine_id, session, window_index, pane_index, pane_id, last_agent, had_agent_at, pane_command, pane_path, pane_dead
FROM agent_panes WHERE agent_dead ORDER BY machine_id, session, window_index, pane_index;
