-- Triage: what needs attention, most urgent first, each with why and what to run next.
-- `next` holds vc commands that run as written (tests execute them); `fix` is a command to run
-- on the machine itself, shown and never run by vc. Only machine ids, source names and numbers
-- are spliced into commands: they are validated plain words, unlike mount points or paths.

CREATE VIEW v1.triage_items AS
WITH items AS (
  SELECT f.*, EXISTS (SELECT 1 FROM configured_machines c WHERE c.machine_id = f.machine_id AND c.collectable) AS collectable
  FROM health_factors f
  WHERE f.severity IN ('warn', 'crit')
)
SELECT
  row_number() OVER (ORDER BY severity_rank(severity) DESC, impact DESC NULLS FIRST, machine_id, factor_id, subject) AS rank,
  severity, machine_id, factor_id, subject,
  coalesce(title, CASE factor_id
    WHEN 'disk_used' THEN format('{}: {} is {}% full', machine_id, subject, value)
    WHEN 'disk_inodes' THEN format('{}: {} has used {}% of its inodes', machine_id, subject, value)
    WHEN 'memory' THEN format('{}: only {}% of memory available', machine_id, value)
    WHEN 'swap' THEN format('{}: {}% of swap in use', machine_id, value)
    WHEN 'swap_rising' THEN format('{}: swap use rising ({} points in 30 min)', machine_id, value)
    WHEN 'load' THEN format('{}: sustained load of {} per core', machine_id, value)
    WHEN 'oom_kills' THEN format('{}: {} OOM kills in {} h', machine_id, value::BIGINT, getvariable('vc_recent_hours'))
    WHEN 'inotify_watches' THEN format('{}: inotify watches at {}% of the limit', machine_id, value)
    WHEN 'inotify_instances' THEN format('{}: inotify instances at {}% of the limit', machine_id, value)
    WHEN 'runaway_process' THEN format('{}: runaway process pid {} hot for ~{} min', machine_id, subject, value::BIGINT)
    WHEN 'freshness' THEN CASE
      WHEN evidence->>'unreachable_reason' IS NOT NULL THEN format('{}: unreachable ({})', machine_id, evidence->>'unreachable_reason')
      -- A few late sources are named; more are counted (the summary and evidence name them).
      ELSE format('{}: {} ({})', machine_id, CASE WHEN value IS NULL THEN 'never collected' ELSE 'stale data' END,
                  CASE WHEN json_array_length(evidence->'late') <= 3 THEN array_to_string(CAST(evidence->'late' AS VARCHAR[]), ', ')
                    ELSE format('{} sources', json_array_length(evidence->'late')) END) END
    WHEN 'collector_failures' THEN format('{}: collector {} failing ({}% of runs in {} h)', machine_id, subject, value, getvariable('vc_recent_hours'))
    WHEN 'dirty_repos' THEN format('{}: {} repositories with uncommitted changes', machine_id, value::BIGINT)
    WHEN 'agent_idle' THEN format('{}: {} idle for {} min', machine_id, subject, value::BIGINT)
    WHEN 'agent_dead' THEN format('{}: {} tmux panes whose agent exited', machine_id, value::BIGINT)
    WHEN 'agent_stopped' THEN format('{}: {} agents stopped or zombie', machine_id, value::BIGINT)
    WHEN 'usage_limit' THEN format('{}: {} window {}% used', machine_id, subject, value)
    WHEN 'usage_burn' THEN format('{}: {} burning {}x its usual tokens per hour', machine_id, subject, value)
    WHEN 'usage_no_commits' THEN format('{}: {} session burning for {} h with no commit', machine_id, evidence->>'agent', value)
    ELSE format('{}: {} {}', machine_id, factor_id, value) END) AS title,
  summary AS why,
  value, unit, warn, crit, evidence,
  coalesce(next, CASE factor_id
    WHEN 'disk_used' THEN [vc_query_cmd(machine_id, 'mount, used_pct, avail_bytes, size_bytes', 'machine_filesystems', ' ORDER BY used_pct DESC')]
    WHEN 'disk_inodes' THEN [vc_query_cmd(machine_id, 'mount, inodes_used_pct, inodes_used, inodes', 'machine_filesystems', ' ORDER BY inodes_used_pct DESC')]
    WHEN 'memory' THEN [vc_query_cmd(machine_id, 'pid, comm, rss_bytes, age_s, args', 'latest_processes', ' ORDER BY rss_bytes DESC LIMIT 10')]
    WHEN 'swap' THEN [vc_query_cmd(machine_id, 'pid, comm, rss_bytes, age_s, args', 'latest_processes', ' ORDER BY rss_bytes DESC LIMIT 10')]
    WHEN 'swap_rising' THEN [vc_query_cmd(machine_id, 'pid, comm, rss_bytes, age_s, args', 'latest_processes', ' ORDER BY rss_bytes DESC LIMIT 10'),
      vc_query_cmd(machine_id, 'collected_at, swap_total_bytes - swap_free_bytes AS swap_used_bytes, mem_available_bytes', 'sys_recent', ' ORDER BY collected_at DESC LIMIT 15')]
    WHEN 'load' THEN [vc_query_cmd(machine_id, 'pid, comm, cpu_pct, age_s, args', 'latest_processes', ' ORDER BY cpu_pct DESC LIMIT 10')]
    WHEN 'oom_kills' THEN [vc_query_cmd(machine_id, 'collected_at, oom_kills, mem_available_bytes, swap_total_bytes - swap_free_bytes AS swap_used_bytes', 'sys_recent', ' ORDER BY collected_at DESC LIMIT 30')]
    WHEN 'inotify_watches' THEN [vc_query_cmd(machine_id, 'collected_at, inotify_watches_used, inotify_max_user_watches', 'sys_recent', ' ORDER BY collected_at DESC LIMIT 30')]
    WHEN 'inotify_instances' THEN [vc_query_cmd(machine_id, 'collected_at, inotify_instances_used, inotify_max_user_instances', 'sys_recent', ' ORDER BY collected_at DESC LIMIT 30')]
    WHEN 'runaway_process' THEN [vc_query_cmd(machine_id, 'pid, comm, cpu_pct, rss_bytes, age_s, args', 'latest_processes', ' AND pid = ' || subject)]
    WHEN 'freshness' THEN CASE WHEN collectable THEN [format('vc collect --machine {}', machine_id)] ELSE [] END
      || [vc_query_cmd(machine_id, 'source, ended_at, status, error', 'collector_runs', ' ORDER BY ended_at DESC LIMIT 10')]
    WHEN 'collector_failures' THEN [vc_query_cmd(machine_id, 'ended_at, status, duration_ms, error', 'collector_runs', format(' AND source = ''{}'' ORDER BY ended_at DESC LIMIT 10', subject))]
    WHEN 'dirty_repos' THEN [vc_query_cmd(machine_id, 'name, branch, dirty_files, untracked_files, ahead, behind, path', 'repo_status', ' AND dirty ORDER BY dirty_files DESC')]
    WHEN 'agent_idle' THEN [vc_query_cmd(machine_id, 'agent, pid, status, idle_s, session, window_index, pane_index, cwd', 'agent_processes', ' ORDER BY idle_s DESC')]
    WHEN 'agent_dead' THEN [vc_query_cmd(machine_id, 'session, window_index, pane_index, last_agent, had_agent_at, pane_command, pane_path', 'agent_panes', ' AND agent_dead')]
    WHEN 'agent_stopped' THEN [vc_query_cmd(machine_id, 'agent, pid, state, status, cwd, args', 'agent_processes', ' AND status IN (''stopped'', ''zombie'')')]
    WHEN 'usage_limit' THEN [format('vc report usage --by session --machine {} --md', machine_id)]
    WHEN 'usage_burn' THEN [format('vc report usage --by session --machine {} --md', machine_id)]
    WHEN 'usage_no_commits' THEN [format('vc report usage --by session --machine {} --md', machine_id),
      vc_query_cmd(machine_id, 'name, branch, dirty_files, untracked_files, last_commit_at, path', 'repo_status', ' ORDER BY last_commit_at')]
    ELSE []
  END) || ['vc report machines --md'] AS next,
  coalesce(fix, CASE factor_id
    WHEN 'runaway_process' THEN format('ps -o pid,etime,pcpu,rss,args -p {}', subject)
    WHEN 'agent_stopped' THEN 'ps -o pid,stat,etime,args -C ' || coalesce(evidence->'agents'->0->>'agent', 'claude')
    WHEN 'inotify_watches' THEN 'sysctl fs.inotify.max_user_watches'
    WHEN 'inotify_instances' THEN 'sysctl fs.inotify.max_user_instances'
    WHEN 'memory' THEN 'free -h'
    WHEN 'swap' THEN 'free -h'
    WHEN 'swap_rising' THEN 'free -h'
  END) AS fix
FROM items;
COMMENT ON VIEW v1.triage_items IS 'What needs attention, ranked (crit first, then by how far past the threshold): title, why, evidence, vc commands to run next and a command to run on the machine';
