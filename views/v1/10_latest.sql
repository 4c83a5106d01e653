-- Latest state per machine: what each machine looked like at its most recent successful run.


-- The last successful run of each source on each machine: latest-state views read its rows only,
-- so a run that found nothing (no repos, no agents) really means nothing, not "keep the old rows".
-- It is the later of the newest run with rows in the source itself (only successful runs store
-- rows, and a machine's newest day is always read, so this reaches back past a long outage) and
-- the newest successful run recorded in collector_runs (which may have stored no rows).
CREATE VIEW v1.last_ok_runs AS
WITH from_data AS (
  SELECT machine_id, 'sys' AS source, arg_max(run_id, collected_at) AS run_id, max(collected_at) AS started_at FROM sys_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'repos', arg_max(run_id, collected_at), max(collected_at) FROM repos_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'agents', arg_max(run_id, collected_at), max(collected_at) FROM agents_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'tools', arg_max(run_id, collected_at), max(collected_at) FROM tools_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'caut', arg_max(run_id, collected_at), max(collected_at) FROM caut_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'beads', arg_max(run_id, collected_at), max(collected_at) FROM beads_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'ntm', arg_max(run_id, collected_at), max(collected_at) FROM ntm_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'cass', arg_max(run_id, collected_at), max(collected_at) FROM cass_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'sysmoni', arg_max(run_id, collected_at), max(collected_at) FROM sysmoni_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'afsc', arg_max(run_id, collected_at), max(collected_at) FROM afsc_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'agent-mail', arg_max(run_id, collected_at), max(collected_at) FROM agent_mail_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'caam', arg_max(run_id, collected_at), max(collected_at) FROM caam_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'ru', arg_max(run_id, collected_at), max(collected_at) FROM ru_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'rch', arg_max(run_id, collected_at), max(collected_at) FROM rch_recent GROUP BY machine_id
  UNION ALL
  SELECT machine_id, 'pt', arg_max(run_id, collected_at), max(collected_at) FROM pt_recent GROUP BY machine_id
), from_runs AS (
  SELECT machine_id, source, arg_max(run_id, ended_at) AS run_id, arg_max(started_at, ended_at) AS started_at, max(ended_at) AS ended_at
  FROM collector_runs_recent WHERE status IN ('ok', 'absent') GROUP BY machine_id, source
)
SELECT coalesce(d.machine_id, r.machine_id) AS machine_id, coalesce(d.source, r.source) AS source,
  CASE WHEN d.run_id IS NULL OR r.started_at > d.started_at THEN r.run_id ELSE d.run_id END AS run_id,
  CASE WHEN d.run_id IS NULL OR r.started_at > d.started_at OR r.run_id = d.run_id THEN r.ended_at ELSE d.started_at END AS ended_at
FROM from_data d FULL JOIN from_runs r ON d.machine_id = r.machine_id AND d.source = r.source;
COMMENT ON VIEW v1.last_ok_runs IS 'Run id and end time of the last successful run per machine and source (from collector_runs, or from the stored rows when the run is older than the window)';

CREATE VIEW v1.machines AS
WITH runs AS (
  SELECT machine_id, max(ended_at) AS last_run_at,
    -- Unreachable now: the newest run found the machine unreachable; since when: the first such
    -- run after the last run that reached it.
    arg_max(status, ended_at) = 'unreachable' AS unreachable_now,
    arg_max(error, ended_at) FILTER (WHERE status = 'unreachable') AS unreachable_error,
    max(ended_at) FILTER (WHERE status <> 'unreachable') AS last_reached_at
  FROM collector_runs_recent GROUP BY machine_id
), since AS (
  SELECT r.machine_id, min(c.started_at) AS unreachable_since
  FROM runs r JOIN collector_runs_recent c ON c.machine_id = r.machine_id AND c.status = 'unreachable'
    AND (r.last_reached_at IS NULL OR c.ended_at > r.last_reached_at)
  WHERE r.unreachable_now GROUP BY r.machine_id
),
ok AS (SELECT machine_id, max(ended_at) AS last_ok_at FROM last_ok_runs GROUP BY machine_id),
seen AS (SELECT machine_id, r.last_run_at, r.unreachable_now, r.unreachable_error, o.last_ok_at FROM runs r FULL JOIN ok o USING (machine_id))
SELECT coalesce(c.machine_id, s.machine_id) AS machine_id, c.ssh, coalesce(c.tags, []::VARCHAR[]) AS tags,
  c.machine_id IS NOT NULL AS configured, coalesce(c.collectable, false) AS collectable,
  CASE WHEN c.ssh = 'local' THEN 'local'
    WHEN s.unreachable_now THEN 'unreachable'
    WHEN s.last_run_at IS NULL THEN 'unknown'
    ELSE 'reachable' END AS reachability,
  CASE WHEN s.unreachable_now THEN regexp_replace(s.unreachable_error, '^machine unreachable: ', '') END AS unreachable_reason,
  n.unreachable_since,
  s.last_run_at, s.last_ok_at, seconds_between(s.last_ok_at, vc_now()) AS last_ok_age_s
FROM configured_machines c
FULL JOIN seen s USING (machine_id)
LEFT JOIN since n USING (machine_id);
COMMENT ON VIEW v1.machines IS 'Every machine vc knows (configured, or seen in the data): ssh target, tags, whether vc collect can reach it, reachability (local, reachable, unreachable with reason and since when, unknown), last run and last successful run';

CREATE VIEW v1.latest_sys AS
SELECT * FROM sys_recent
QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.latest_sys IS 'The newest sys sample of each machine';

CREATE VIEW v1.machine_filesystems AS
SELECT machine_id, collected_at, f.mount, f.device, f.fstype, f.size_bytes, f.used_bytes, f.avail_bytes,
  -- df's Capacity: used / (used + available), which counts the root-reserved blocks as unavailable.
  pct(f.used_bytes, f.used_bytes + f.avail_bytes) AS used_pct,
  f.inodes, f.inodes_used, pct(f.inodes_used, f.inodes) AS inodes_used_pct
FROM (SELECT machine_id, collected_at, unnest(filesystems) AS f FROM latest_sys);
COMMENT ON VIEW v1.machine_filesystems IS 'Filesystems of each machine''s newest sample, with used % (as df computes it) and inode use %';

CREATE VIEW v1.latest_processes AS
SELECT DISTINCT ON (machine_id, p.pid) machine_id, collected_at, p.pid, p.ppid, p."user", p.comm, p.args, p.state,
  p.cpu_pct, p.rss_bytes, p.started_at, seconds_between(p.started_at, collected_at) AS age_s
FROM (
  SELECT machine_id, collected_at, unnest(top_cpu) AS p FROM latest_sys
  UNION ALL
  SELECT machine_id, collected_at, unnest(top_mem) AS p FROM latest_sys
);
COMMENT ON VIEW v1.latest_processes IS 'Top processes (by CPU and by memory) of each machine''s newest sample';

CREATE VIEW v1.latest_repos AS
SELECT r.* FROM repos_recent r JOIN last_ok_runs l ON l.source = 'repos' AND r.machine_id = l.machine_id AND r.run_id = l.run_id;
COMMENT ON VIEW v1.latest_repos IS 'Repositories found by the last successful repos run of each machine';

CREATE VIEW v1.repo_status AS
SELECT machine_id, collected_at, path, name, branch, upstream, ahead, behind, dirty_files, staged_files,
  untracked_files, conflicted_files, stash_count, last_commit_at, last_commit_subject, remote_url, error,
  coalesce(dirty_files, 0) + coalesce(untracked_files, 0) + coalesce(conflicted_files, 0) > 0 AS dirty,
  CASE
    WHEN error IS NOT NULL THEN 'error'
    WHEN coalesce(conflicted_files, 0) > 0 THEN 'conflicted'
    WHEN coalesce(dirty_files, 0) + coalesce(untracked_files, 0) > 0 THEN 'dirty'
    WHEN coalesce(ahead, 0) > 0 AND coalesce(behind, 0) > 0 THEN 'diverged'
    WHEN coalesce(ahead, 0) > 0 THEN 'ahead'
    WHEN coalesce(behind, 0) > 0 THEN 'behind'
    WHEN detached THEN 'detached'
    ELSE 'clean' END AS state,
  seconds_between(last_commit_at, vc_now()) AS last_commit_age_s
FROM v1.latest_repos;
COMMENT ON VIEW v1.repo_status IS 'Latest repositories with a one-word state (error, conflicted, dirty, diverged, ahead, behind, detached, clean) and commit age';

CREATE VIEW v1.latest_agents AS
SELECT a.* FROM agents_recent a JOIN last_ok_runs l ON l.source = 'agents' AND a.machine_id = l.machine_id AND a.run_id = l.run_id;
COMMENT ON VIEW v1.latest_agents IS 'tmux sessions, panes and agent processes from the last successful agents run of each machine';
