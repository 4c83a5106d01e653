-- Health: explainable factors per machine (value, thresholds, severity, score, the rows behind it),
-- rolled up per machine and for the fleet.

CREATE VIEW v1.source_freshness AS
WITH runs AS (
  SELECT machine_id, source,
    max(ended_at) AS last_run_at,
    arg_max(status, ended_at) AS last_status,
    arg_max(error, ended_at) AS last_error,
    count(*) FILTER (WHERE ended_at >= vc_recent_since()) AS runs_recent,
    -- Failures of the collector itself: a machine vc could not reach is not its collector's fault.
    count(*) FILTER (WHERE ended_at >= vc_recent_since() AND status IN ('error', 'timeout', 'killed')) AS failures_recent
  FROM collector_runs_recent GROUP BY machine_id, source
), expected AS (
  -- A configured machine is expected to run its collectors, even before their first run.
  SELECT machine_id, c.source, c.interval_s FROM (SELECT machine_id, unnest(collectors) AS c FROM configured_machines)
), keys AS (
  SELECT machine_id, source FROM expected
  UNION SELECT machine_id, source FROM runs
  UNION SELECT machine_id, source FROM last_ok_runs
)
SELECT k.machine_id, k.source, coalesce(x.interval_s, i.interval_s) AS interval_s, r.last_run_at, l.ended_at AS last_ok_at,
  r.last_status, r.last_error,
  coalesce(r.runs_recent, 0) AS runs_recent, coalesce(r.failures_recent, 0) AS failures_recent,
  seconds_between(l.ended_at, vc_now()) AS age_s,
  round(seconds_between(l.ended_at, vc_now()) / coalesce(x.interval_s, i.interval_s), 1) AS age_intervals
FROM keys k
LEFT JOIN expected x USING (machine_id, source)
LEFT JOIN runs r USING (machine_id, source)
LEFT JOIN last_ok_runs l USING (machine_id, source)
LEFT JOIN source_intervals i USING (source);
COMMENT ON VIEW v1.source_freshness IS 'Per machine and source: last run, last success, last error, runs and failures in the recent window, age in seconds and in expected intervals';

CREATE VIEW v1.source_staleness AS
SELECT source, min(age_s) AS staleness_s FROM source_freshness GROUP BY source;
COMMENT ON VIEW v1.source_staleness IS 'Seconds since each source was last collected successfully on any machine (NULL: never)';

-- A view. machine_health, fleet_health and triage_items read it unqualified (health_factors), so
-- a report that reads them more than once computes it once first, as a temp table of that name
-- (reports/triage.sql: CREATE TEMP TABLE health_factors AS FROM v1.health_factors), and they read that.
CREATE VIEW v1.health_factors AS
WITH
disk AS (
  SELECT machine_id, 'disk_used' AS factor_id, mount AS subject, used_pct AS value,
    format('{} is {}% full: {} free of {}', mount, used_pct, format_bytes(avail_bytes), format_bytes(size_bytes)) AS summary,
    to_json({mount: mount, device: device, fstype: fstype, used_pct: used_pct, avail_bytes: avail_bytes, size_bytes: size_bytes, sampled_at: collected_at}) AS evidence
  FROM machine_filesystems
),
inodes AS (
  SELECT machine_id, 'disk_inodes' AS factor_id, mount AS subject, inodes_used_pct AS value,
    format('{} uses {}% of its inodes ({} of {})', mount, inodes_used_pct, inodes_used, inodes) AS summary,
    to_json({mount: mount, inodes: inodes, inodes_used: inodes_used, sampled_at: collected_at}) AS evidence
  FROM machine_filesystems WHERE inodes IS NOT NULL
),
mem AS (
  SELECT machine_id, 'memory' AS factor_id, pct(mem_available_bytes, mem_total_bytes) AS value,
    format('{} available of {} ({}%)', format_bytes(mem_available_bytes), format_bytes(mem_total_bytes), pct(mem_available_bytes, mem_total_bytes)) AS summary,
    to_json({mem_available_bytes: mem_available_bytes, mem_total_bytes: mem_total_bytes, sampled_at: collected_at,
      figures_from: figures_from, mem_available_from: mem_available_from}) AS evidence
  FROM machine_sample WHERE mem_total_bytes IS NOT NULL
),
swap AS (
  SELECT machine_id, 'swap' AS factor_id, pct(swap_total_bytes - swap_free_bytes, swap_total_bytes) AS value,
    CASE WHEN swap_total_bytes = 0 THEN 'ok' END AS severity_override,
    CASE WHEN swap_total_bytes = 0 THEN 'no swap configured'
      ELSE format('{} of {} swap in use ({}%)', format_bytes(swap_total_bytes - swap_free_bytes), format_bytes(swap_total_bytes), pct(swap_total_bytes - swap_free_bytes, swap_total_bytes)) END AS summary,
    to_json({swap_total_bytes: swap_total_bytes, swap_free_bytes: swap_free_bytes, sampled_at: collected_at, figures_from: figures_from}) AS evidence
  FROM machine_sample WHERE swap_total_bytes IS NOT NULL
),
swap_rising AS (
  -- Swap in use and rising: the growth of used swap over the last 30 minutes (against its lowest
  -- sample then, within this boot), in points of the swap size.
  SELECT s.machine_id, 'swap_rising' AS factor_id,
    round(100.0 * (arg_max(s.swap_total_bytes - s.swap_free_bytes, s.collected_at) - min(s.swap_total_bytes - s.swap_free_bytes)) / any_value(s.swap_total_bytes), 1) AS value,
    format('swap use grew by {} in 30 minutes, to {} of {}',
      format_bytes(arg_max(s.swap_total_bytes - s.swap_free_bytes, s.collected_at) - min(s.swap_total_bytes - s.swap_free_bytes)),
      format_bytes(arg_max(s.swap_total_bytes - s.swap_free_bytes, s.collected_at)), format_bytes(any_value(s.swap_total_bytes))) AS summary,
    to_json({swap_used_bytes: arg_max(s.swap_total_bytes - s.swap_free_bytes, s.collected_at),
      lowest_in_30_min_bytes: min(s.swap_total_bytes - s.swap_free_bytes), swap_total_bytes: any_value(s.swap_total_bytes), samples: count(*)}) AS evidence
  FROM sys_recent s JOIN latest_sys l ON l.machine_id = s.machine_id AND l.boot_time IS NOT DISTINCT FROM s.boot_time
  WHERE s.collected_at > vc_now() - INTERVAL 30 MINUTE AND s.swap_total_bytes > 0 AND l.swap_total_bytes > l.swap_free_bytes
  GROUP BY s.machine_id
  HAVING count(*) >= 2
),
load AS (
  -- Sustained load only: graded on the lowest load5 per core of the last 10 minutes, so a short
  -- spike is no problem. Without 8 minutes of samples yet, the kernel's own damped averages
  -- stand in: the lower of load5 and load15. Samples of sys and sysmoni both count.
  SELECT l.machine_id, 'load' AS factor_id,
    round(CASE WHEN seconds_between(min(s.collected_at), any_value(l.collected_at)) >= 480 THEN min(s.load5 / s.cpu_count)
      ELSE least(any_value(l.load5), any_value(l.load15)) / any_value(l.cpu_count) END, 2) AS value,
    format('load5 {} on {} cores ({} per core); {}',
      any_value(l.load5), any_value(l.cpu_count), round(any_value(l.load5) / any_value(l.cpu_count), 2),
      CASE WHEN seconds_between(min(s.collected_at), any_value(l.collected_at)) >= 480
        THEN format('lowest per-core load5 in the last 10 min: {}', round(min(s.load5 / s.cpu_count), 2))
        ELSE format('less than 10 min of samples: graded on load15 {}', any_value(l.load15)) END) AS summary,
    to_json({load1: any_value(l.load1), load5: any_value(l.load5), load15: any_value(l.load15), cpu_count: any_value(l.cpu_count),
      cpu_util: any_value(l.cpu_util), samples_10m: count(*), sampled_at: any_value(l.collected_at), figures_from: any_value(l.figures_from)}) AS evidence
  FROM machine_sample l
  JOIN load_samples s ON s.machine_id = l.machine_id AND s.collected_at > l.collected_at - INTERVAL 10 MINUTE AND s.collected_at <= l.collected_at
  WHERE l.load5 IS NOT NULL
  GROUP BY l.machine_id
),
oom AS (
  -- The kernel counter restarts at boot: sum the increase within each boot.
  SELECT machine_id, 'oom_kills' AS factor_id, sum(kills) AS value,
    format('{} OOM kills in the last {} h', sum(kills), getvariable('vc_recent_hours')) AS summary,
    to_json({oom_kills: sum(kills), since: vc_recent_since()}) AS evidence
  FROM (
    SELECT machine_id, boot_time, max(oom_kills) - min(oom_kills) AS kills
    FROM sys_recent WHERE oom_kills IS NOT NULL AND collected_at >= vc_recent_since()
    GROUP BY machine_id, boot_time
  ) GROUP BY machine_id
),
inotify_w AS (
  SELECT machine_id, 'inotify_watches' AS factor_id, pct(inotify_watches_used, inotify_max_user_watches) AS value,
    format('{} inotify watches of max_user_watches {}', inotify_watches_used, inotify_max_user_watches) AS summary,
    to_json({inotify_watches_used: inotify_watches_used, inotify_max_user_watches: inotify_max_user_watches, sampled_at: collected_at}) AS evidence
  FROM machine_sample WHERE inotify_max_user_watches IS NOT NULL
),
inotify_i AS (
  SELECT machine_id, 'inotify_instances' AS factor_id, pct(inotify_instances_used, inotify_max_user_instances) AS value,
    format('{} inotify instances of max_user_instances {}', inotify_instances_used, inotify_max_user_instances) AS summary,
    to_json({inotify_instances_used: inotify_instances_used, inotify_max_user_instances: inotify_max_user_instances, sampled_at: collected_at}) AS evidence
  FROM machine_sample WHERE inotify_max_user_instances IS NOT NULL
),
runaway AS (
  -- Minutes a process (pid + start time) sat at >= 90% CPU over the last 2 hours of samples,
  -- for processes that are still that hot in the newest sample.
  WITH win AS (
    SELECT machine_id, collected_at, top_cpu FROM sys_recent WHERE collected_at >= vc_now() - INTERVAL 2 HOUR
  ), step AS (
    SELECT machine_id, max(collected_at) AS last_at,
      CASE WHEN count(*) > 1 THEN (epoch(max(collected_at)) - epoch(min(collected_at))) / (count(*) - 1) END AS step_s
    FROM win GROUP BY machine_id
  ), hot AS (
    SELECT machine_id, collected_at, p.pid, p.started_at, p.comm, p.args, p.cpu_pct
    FROM (SELECT machine_id, collected_at, unnest(top_cpu) AS p FROM win) WHERE p.cpu_pct >= 90
  )
  -- Each hot sample stands for one sampling step; the total cannot exceed the 2-hour window.
  SELECT h.machine_id, 'runaway_process' AS factor_id, h.pid::VARCHAR AS subject,
    round(least(count(*) * any_value(s.step_s), 7200) / 60) AS value,
    format('pid {} ({}) at {}% CPU in {} samples over the last 2 h (~{} min): {}', h.pid, any_value(h.comm),
      round(avg(h.cpu_pct))::BIGINT, count(*), round(least(count(*) * any_value(s.step_s), 7200) / 60)::BIGINT, arg_max(h.args, h.collected_at)) AS summary,
    to_json({pid: h.pid, comm: any_value(h.comm), args: arg_max(h.args, h.collected_at), started_at: h.started_at,
      avg_cpu_pct: round(avg(h.cpu_pct), 1), hot_samples: count(*)}) AS evidence
  FROM hot h JOIN step s USING (machine_id)
  WHERE s.step_s IS NOT NULL
  GROUP BY h.machine_id, h.pid, h.started_at
  HAVING max(h.collected_at) = any_value(s.last_at)
),
watched AS (
  -- The sources freshness grades per machine (those with an interval, or never collected), how
  -- many, and of each whether it is late and its state: never collected, never successfully, late.
  SELECT f.*, f.last_ok_at IS NULL OR f.age_intervals >= t.warn AS is_late,
    CASE WHEN f.last_ok_at IS NULL AND f.last_run_at IS NULL THEN 'never collected'
      WHEN f.last_ok_at IS NULL THEN format('never collected successfully ({})', coalesce(f.last_error, f.last_status))
      ELSE 'late' END AS state,
    count(*) OVER (PARTITION BY f.machine_id) AS watched_n
  FROM source_freshness f CROSS JOIN (SELECT warn FROM v1.health_thresholds WHERE factor_id = 'freshness') t
  WHERE f.interval_s IS NOT NULL OR f.last_ok_at IS NULL
),
late_summaries AS (
  -- Sources in one state are named once (late ones with the range of their ages): a silent
  -- machine's twenty sources read as one phrase.
  SELECT machine_id, string_agg(
      CASE WHEN n = 1 THEN sources[1] WHEN n = watched_n THEN format('all {} sources', n) ELSE array_to_string(sources, ', ') END || ' ' ||
      CASE WHEN state <> 'late' THEN state
        WHEN n = 1 THEN format('last collected {} ago (expected every {})', human_age(oldest_s), human_age(interval_s))
        WHEN human_age(newest_s) = human_age(oldest_s) THEN format('last collected {} ago', human_age(oldest_s))
        ELSE format('last collected {} to {} ago', human_age(newest_s), human_age(oldest_s)) END,
      '; ' ORDER BY sources[1]) AS summary
  FROM (SELECT machine_id, state, list(source ORDER BY source) AS sources, count(*) AS n, any_value(watched_n) AS watched_n,
          any_value(interval_s) AS interval_s, min(age_s) AS newest_s, max(age_s) AS oldest_s
        FROM watched WHERE is_late GROUP BY machine_id, state)
  GROUP BY machine_id
),
fresh AS (
  -- One factor per machine: its stalest source, in expected intervals; never collected is crit.
  -- The summary says what every late source's state is, so a silent machine reads as one item,
  -- led by why when vc could not reach it.
  SELECT f.machine_id, 'freshness' AS factor_id,
    CASE WHEN bool_or(f.last_ok_at IS NULL) THEN NULL ELSE max(f.age_intervals) END AS value,
    CASE WHEN bool_or(f.last_ok_at IS NULL) THEN 'crit' END AS severity_override,
    CASE WHEN any_value(m.reachability) = 'unreachable'
      THEN format('unreachable since {} ({}); ', any_value(m.unreachable_since), any_value(m.unreachable_reason)) ELSE '' END ||
    coalesce(any_value(ls.summary), 'every source is fresh') AS summary,
    to_json({sources: list({source: f.source, last_ok_at: f.last_ok_at, age_s: f.age_s, interval_s: f.interval_s,
      last_status: f.last_status, last_error: f.last_error} ORDER BY f.source),
      late: coalesce(list(f.source ORDER BY f.source) FILTER (WHERE f.is_late), []),
      unreachable_reason: any_value(m.unreachable_reason), unreachable_since: any_value(m.unreachable_since)}) AS evidence
  FROM watched f
  LEFT JOIN machines m ON m.machine_id = f.machine_id
  LEFT JOIN late_summaries ls ON ls.machine_id = f.machine_id
  GROUP BY f.machine_id
),
failures AS (
  SELECT machine_id, 'collector_failures' AS factor_id, source AS subject, pct(failures_recent, runs_recent) AS value,
    format('{}: {} of {} runs failed in the last {} h; last status {}{}', source, failures_recent, runs_recent, getvariable('vc_recent_hours'), last_status,
      CASE WHEN last_error IS NOT NULL THEN ': ' || last_error ELSE '' END) AS summary,
    to_json({source: source, runs: runs_recent, failures: failures_recent, since: vc_recent_since(), last_status: last_status, last_error: last_error}) AS evidence
  FROM source_freshness WHERE runs_recent > 0
),
dirty AS (
  SELECT l.machine_id, 'dirty_repos' AS factor_id, count(r.path) FILTER (WHERE r.dirty) AS value,
    format('{} of {} repositories have uncommitted or untracked changes', count(r.path) FILTER (WHERE r.dirty), count(r.path)) AS summary,
    to_json({repos: count(r.path), dirty: count(r.path) FILTER (WHERE r.dirty),
      dirtiest: (SELECT list({name: d.name, path: d.path, dirty_files: d.dirty_files, untracked_files: d.untracked_files}
                             ORDER BY coalesce(d.dirty_files, 0) + coalesce(d.untracked_files, 0) DESC)[1:5]
                 FROM repo_status d WHERE d.machine_id = l.machine_id AND d.dirty)}) AS evidence
  FROM last_ok_runs l LEFT JOIN repo_status r USING (machine_id)
  WHERE l.source = 'repos'
  GROUP BY l.machine_id
),
idle AS (
  SELECT machine_id, 'agent_idle' AS factor_id, format('{} pid {}', agent, pid) AS subject, round(idle_s / 60) AS value,
    format('{} (pid {}) in {} has used no CPU for {}{}', agent, pid, coalesce(cwd, '?'), human_age(idle_s),
      CASE WHEN session IS NOT NULL THEN format(' (tmux {}:{}.{})', session, window_index, pane_index) ELSE '' END) AS summary,
    to_json({agent: agent, pid: pid, cwd: cwd, session: session, window_index: window_index, pane_index: pane_index,
      idle_s: idle_s, last_active_at: last_active_at, started_at: started_at}) AS evidence
  FROM agent_processes WHERE idle_s IS NOT NULL
),
dead AS (
  SELECT l.machine_id, 'agent_dead' AS factor_id, count(p.pane_id) FILTER (WHERE p.agent_dead) AS value,
    format('{} tmux panes whose agent exited', count(p.pane_id) FILTER (WHERE p.agent_dead)) AS summary,
    to_json({panes: list({session: p.session, window_index: p.window_index, pane_index: p.pane_index, last_agent: p.last_agent,
      had_agent_at: p.had_agent_at, pane_command: p.pane_command} ORDER BY p.session, p.window_index, p.pane_index) FILTER (WHERE p.agent_dead)}) AS evidence
  FROM last_ok_runs l LEFT JOIN agent_panes p USING (machine_id)
  WHERE l.source = 'agents'
  GROUP BY l.machine_id
),
stopped AS (
  SELECT l.machine_id, 'agent_stopped' AS factor_id, count(a.pid) FILTER (WHERE a.status IN ('stopped', 'zombie')) AS value,
    format('{} agent processes stopped or zombie', count(a.pid) FILTER (WHERE a.status IN ('stopped', 'zombie'))) AS summary,
    to_json({agents: list({agent: a.agent, pid: a.pid, state: a.state, cwd: a.cwd} ORDER BY a.pid) FILTER (WHERE a.status IN ('stopped', 'zombie'))}) AS evidence
  FROM last_ok_runs l LEFT JOIN agent_processes a USING (machine_id)
  WHERE l.source = 'agents'
  GROUP BY l.machine_id
),
-- A factor view may say how triage shows it (title, next vc commands, a fix to run on the
-- machine); the factors below leave that to views/v1/40_triage.sql.
shown AS (
  SELECT NULL::VARCHAR AS machine_id, NULL::VARCHAR AS factor_id, NULL::VARCHAR AS title, NULL::VARCHAR[] AS next, NULL::VARCHAR AS fix
  WHERE false
),
all_factors AS (
  FROM shown UNION ALL BY NAME FROM disk UNION ALL BY NAME FROM inodes UNION ALL BY NAME FROM mem UNION ALL BY NAME FROM swap UNION ALL BY NAME FROM swap_rising
  UNION ALL BY NAME FROM load UNION ALL BY NAME FROM oom UNION ALL BY NAME FROM inotify_w
  UNION ALL BY NAME FROM inotify_i UNION ALL BY NAME FROM runaway UNION ALL BY NAME FROM fresh
  UNION ALL BY NAME FROM failures UNION ALL BY NAME FROM dirty UNION ALL BY NAME FROM idle
  UNION ALL BY NAME FROM dead UNION ALL BY NAME FROM stopped
  UNION ALL BY NAME FROM v1.repo_factors
  UNION ALL BY NAME FROM v1.usage_factors
  UNION ALL BY NAME FROM v1.prediction_factors
  UNION ALL BY NAME FROM v1.anomaly_factors
  UNION ALL BY NAME FROM v1.beads_factors
  UNION ALL BY NAME FROM v1.sessions_factors
  UNION ALL BY NAME FROM v1.setup_factors
  UNION ALL BY NAME FROM v1.bench_factors
  UNION ALL BY NAME FROM v1.mail_factors
  UNION ALL BY NAME FROM v1.accounts_factors
  UNION ALL BY NAME FROM v1.dcg_factors
  UNION ALL BY NAME FROM v1.network_factors
  UNION ALL BY NAME FROM v1.rch_factors
  UNION ALL BY NAME FROM v1.pt_factors
)
SELECT f.machine_id, f.factor_id, f.subject, t.description, f.value::DOUBLE AS value, t.unit, t.warn, t.crit,
  coalesce(f.severity_override, grade(f.value, t.warn, t.crit, t.higher_is_worse)) AS severity,
  severity_score(coalesce(f.severity_override, grade(f.value, t.warn, t.crit, t.higher_is_worse))) AS score,
  -- How far past its warn threshold (0) towards crit (1) and beyond (capped at 3), times the
  -- factor's weight: ranks items of one severity.
  t.weight * (1 + least(greatest(CASE WHEN f.value IS NULL THEN 1.0
    WHEN t.higher_is_worse THEN (f.value - t.warn) / nullif(t.crit - t.warn, 0)
    ELSE (t.warn - f.value) / nullif(t.warn - t.crit, 0) END, 0), 3)) AS impact,
  f.summary, f.evidence, f.title, f.next, f.fix
FROM all_factors f JOIN v1.health_thresholds t USING (factor_id);
COMMENT ON VIEW v1.health_factors IS 'Every health factor per machine (and subject: mount, source, process): value, unit, warn/crit thresholds, severity, score, impact, summary and evidence';

CREATE VIEW v1.machine_health AS
SELECT m.machine_id,
  min(f.score) AS score,
  CASE max(severity_rank(f.severity)) WHEN 3 THEN 'crit' WHEN 2 THEN 'warn' WHEN 1 THEN 'info' WHEN 0 THEN 'ok' END AS severity,
  arg_max(f.factor_id, severity_rank(f.severity) * 1000 + coalesce(f.impact, 0)) FILTER (WHERE f.severity IN ('warn', 'crit')) AS worst_factor,
  arg_max(f.summary, severity_rank(f.severity) * 1000 + coalesce(f.impact, 0)) FILTER (WHERE f.severity IN ('warn', 'crit')) AS worst_summary,
  count(*) FILTER (WHERE f.severity = 'crit') AS crit_factors,
  count(*) FILTER (WHERE f.severity = 'warn') AS warn_factors,
  count(f.factor_id) AS factors
FROM machines m LEFT JOIN health_factors f USING (machine_id)
GROUP BY m.machine_id;
COMMENT ON VIEW v1.machine_health IS 'Per machine: health score (the worst factor''s score), severity, worst factor and counts of crit and warn factors';

CREATE VIEW v1.fleet_health AS
SELECT min(score) AS score, round(avg(score), 3) AS mean_score,
  CASE max(severity_rank(severity)) WHEN 3 THEN 'crit' WHEN 2 THEN 'warn' WHEN 1 THEN 'info' WHEN 0 THEN 'ok' END AS severity,
  count(*) AS machines,
  count(*) FILTER (WHERE severity = 'crit') AS machines_crit,
  count(*) FILTER (WHERE severity = 'warn') AS machines_warn,
  count(*) FILTER (WHERE severity = 'ok') AS machines_ok
FROM v1.machine_health;
COMMENT ON VIEW v1.fleet_health IS 'The fleet in one row: worst and mean machine score, severity, machine counts by severity';
