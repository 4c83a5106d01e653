-- One row per machine: the line a person scans first.
CREATE VIEW v1.machine_overview AS
SELECT m.machine_id, m.ssh, m.tags, m.configured, m.reachability, m.unreachable_reason, m.unreachable_since,
  m.last_ok_at, m.last_ok_age_s, h.score, h.severity, h.worst_factor, h.worst_summary, h.crit_factors, h.warn_factors,
  s.collected_at AS sampled_at, s.load1, s.load5, s.load15, s.cpu_count, s.cpu_util,
  s.mem_total_bytes, s.mem_available_bytes, pct(s.mem_available_bytes, s.mem_total_bytes) AS mem_available_pct,
  s.swap_total_bytes, s.swap_total_bytes - s.swap_free_bytes AS swap_used_bytes, s.uptime_s, s.process_count,
  fs.worst_mount, fs.worst_used_pct,
  r.repos, r.dirty_repos,
  a.agents, a.idle_agents,
  t.tmux_sessions,
  s.figures_from, s.net_rx_mbps, s.net_tx_mbps, s.disk_read_mibs, s.disk_write_mibs, s.gpu_util_max_pct, s.temp_max_c
FROM machines m
LEFT JOIN v1.machine_health h USING (machine_id)
LEFT JOIN machine_sample s USING (machine_id)
LEFT JOIN (SELECT machine_id, arg_max(mount, used_pct) AS worst_mount, max(used_pct) AS worst_used_pct
           FROM machine_filesystems GROUP BY machine_id) fs USING (machine_id)
LEFT JOIN (SELECT machine_id, count(*) AS repos, count(*) FILTER (WHERE dirty) AS dirty_repos
           FROM repo_status GROUP BY machine_id) r USING (machine_id)
LEFT JOIN (SELECT machine_id, count(*) AS agents, count(*) FILTER (WHERE status = 'idle') AS idle_agents
           FROM agent_processes GROUP BY machine_id) a USING (machine_id)
LEFT JOIN (SELECT machine_id, count(*) AS tmux_sessions FROM v1.agent_sessions GROUP BY machine_id) t USING (machine_id);
COMMENT ON VIEW v1.machine_overview IS 'One row per machine: health, newest load/cpu/memory/swap/uptime (from sysmoni where it ran recently, else sys: figures_from), fullest filesystem, repo and agent counts, sysmoni''s network and disk rates, GPU use and hottest sensor';

-- Things a report should warn about: sources with no data at all.
CREATE VIEW v1.data_warnings AS
SELECT format('no {} data has been collected yet', source) AS warning
FROM v1.source_staleness WHERE staleness_s IS NULL
ORDER BY source;
COMMENT ON VIEW v1.data_warnings IS 'Warnings every report carries: sources with no successful collection yet';

-- The fleet's inventory: how each machine is reached, whether it answers, and what it has.
CREATE VIEW v1.machine_inventory AS
WITH t AS (
  SELECT machine_id, collected_at AS tools_probed_at, hostname, kernel, arch, tools FROM tools_recent
  QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1
)
SELECT m.machine_id, m.ssh, m.tags, m.configured, m.reachability, m.unreachable_reason, m.unreachable_since,
  m.last_ok_at, m.last_ok_age_s, t.hostname, t.kernel, t.arch, t.tools_probed_at,
  seconds_between(t.tools_probed_at, vc_now()) AS tools_age_s,
  [x.name FOR x IN t.tools IF x.path IS NOT NULL] AS tools_present,
  [x.name FOR x IN t.tools IF x.path IS NULL] AS tools_missing
FROM machines m LEFT JOIN t USING (machine_id);
COMMENT ON VIEW v1.machine_inventory IS 'Per machine: ssh target, tags, reachability (and why not, since when), last successful collection, host name, kernel, arch, and the tools it has or lacks as of its last probe';
