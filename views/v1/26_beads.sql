-- beads domain: ready work and blocked issues per repository and machine, whether an agent works
-- in the repository, and the beads health factors. Counts come from br where it answered (its
-- ready and list), else from bv's triage.

-- Agent processes per beads repository: each counted once, in the innermost repository holding its cwd.
CREATE VIEW v1.beads_repo_agents AS
SELECT machine_id, repo, count(*) AS agents, list(agent ORDER BY agent) AS agent_names
FROM (
  SELECT a.machine_id, r.repo, a.agent
  FROM agent_processes a JOIN v1.beads_repo_stats r
    ON r.machine_id = a.machine_id AND (a.cwd = r.repo OR starts_with(a.cwd, r.repo || '/'))
  WHERE a.status NOT IN ('stopped', 'zombie')
  QUALIFY row_number() OVER (PARTITION BY a.machine_id, a.pid, a.started_at ORDER BY length(r.repo) DESC) = 1
)
GROUP BY ALL;
COMMENT ON VIEW v1.beads_repo_agents IS 'Running coding agents (not stopped or zombie) per beads repository, each in the innermost repository holding its cwd';

CREATE VIEW v1.beads_repos AS
WITH issues AS (
  SELECT machine_id, repo,
    count(*) FILTER (WHERE state = 'ready' AND priority <= 1) AS ready_high,
    count(*) FILTER (WHERE state = 'blocked') AS blocked,
    count(*) FILTER (WHERE state = 'in_progress') AS in_progress,
    count(*) FILTER (WHERE state = 'deferred') AS deferred
  FROM v1.beads_issues GROUP BY ALL
),
errors AS (
  SELECT machine_id, repo, count(*) AS errors, list(step ORDER BY step) AS failed_steps FROM v1.beads_errors GROUP BY ALL
),
top AS (
  -- bv's first top pick (claimable now), else its first recommendation.
  SELECT machine_id, repo, arg_min({id: id, title: title, score: score, kind: kind}, (kind = 'recommendation')::INTEGER * 1000 + rank) AS pick
  FROM v1.beads_picks WHERE kind IN ('top_pick', 'recommendation') GROUP BY ALL
)
SELECT r.machine_id, r.collected_at, r.repo, r.name,
  CASE WHEN r.ready_count IS NOT NULL THEN 'br' WHEN r.actionable_count IS NOT NULL THEN 'bv' END AS counted_by,
  -- bv's actionable issues include those in progress; br ready's do not.
  coalesce(r.ready_count, CASE WHEN r.actionable_count IS NOT NULL THEN greatest(r.actionable_count - coalesce(r.in_progress_count, 0), 0) END) AS ready,
  CASE WHEN r.ready_count IS NOT NULL THEN coalesce(i.ready_high, 0) END AS ready_high,
  CASE WHEN r.ready_count IS NOT NULL AND r.list_count IS NOT NULL THEN coalesce(i.blocked, 0) ELSE r.not_actionable_count END AS blocked,
  CASE WHEN r.list_count IS NOT NULL THEN coalesce(i.in_progress, 0) ELSE r.in_progress_count END AS in_progress,
  CASE WHEN r.list_count IS NOT NULL THEN coalesce(i.deferred, 0) END AS deferred,
  coalesce(r.list_count, r.not_closed_count) AS not_closed,
  -- Unknown (NULL) where the agents collector has not run on the machine.
  CASE WHEN EXISTS (SELECT 1 FROM last_ok_runs l WHERE l.machine_id = r.machine_id AND l.source = 'agents') THEN coalesce(a.agents, 0) END AS agents,
  coalesce(a.agent_names, []::VARCHAR[]) AS agent_names,
  t.pick.id AS top_id, t.pick.title AS top_title, t.pick.score AS top_score,
  coalesce(r.cycle_count, r.insight_cycles) AS cycles,
  r.plan_tracks, r.plan_highest_impact, r.stale_count, r.closed_last_7_days,
  coalesce(r.degraded, []::VARCHAR[]) AS degraded, r.load_errors, r.claim_top,
  coalesce(e.errors, 0) AS errors, coalesce(e.failed_steps, []::VARCHAR[]) AS failed_steps, r.counts_era
FROM v1.beads_repo_stats r
LEFT JOIN issues i USING (machine_id, repo)
LEFT JOIN errors e USING (machine_id, repo)
LEFT JOIN top t USING (machine_id, repo)
LEFT JOIN v1.beads_repo_agents a USING (machine_id, repo);
COMMENT ON VIEW v1.beads_repos IS 'Per machine and beads repository: ready issues (br ready, else bv actionable minus in progress; counted_by says which), ready P0/P1, blocked (waiting on a dependency or status blocked), in progress, deferred, not closed, agents running there (NULL: no agents data), bv''s top pick, dependency cycles, failed commands';

CREATE VIEW v1.beads_ready AS
SELECT i.machine_id, i.repo, i.name, i.id, i.title, i.priority, i.issue_type, i.status, i.assignee, i.labels,
  i.dependent_count, i.updated_at, seconds_between(i.updated_at, vc_now()) AS age_s, r.agents
FROM v1.beads_issues i LEFT JOIN beads_repos r USING (machine_id, repo)
WHERE i.state = 'ready';
COMMENT ON VIEW v1.beads_ready IS 'Ready issues (br ready) per machine and repository: priority (0 = P0), type, assignee, issues depending on it, last update and age, agents running in the repository (NULL: unknown)';

CREATE VIEW v1.beads_blocked AS
SELECT machine_id, repo, name, id, title, priority, issue_type, status, assignee, dependency_count, dependent_count,
  updated_at, seconds_between(updated_at, vc_now()) AS age_s
FROM v1.beads_issues WHERE state = 'blocked';
COMMENT ON VIEW v1.beads_blocked IS 'Blocked issues per machine and repository: status blocked, or not ready while waiting on a dependency (dependency_count); priority, type, assignee, issues it blocks in turn, last update';

CREATE VIEW v1.beads_machines AS
WITH runs AS (
  SELECT machine_id, any_value(collected_at) AS collected_at, any_value(repos_found) AS repos_found, any_value(repos_checked) AS repos_checked,
    any_value(br_installed) AS br_installed, any_value(bv_installed) AS bv_installed
  FROM beads_latest WHERE "type" = 'run' GROUP BY machine_id
), repos AS (
  SELECT machine_id, sum(ready) AS ready, sum(ready_high) AS ready_high, sum(blocked) AS blocked, sum(in_progress) AS in_progress,
    sum(not_closed) AS not_closed, sum(errors) AS errors,
    count(*) FILTER (WHERE agents = 0 AND ready > 0) AS idle_repos_with_ready
  FROM beads_repos GROUP BY machine_id
)
SELECT u.machine_id, u.collected_at, u.br_installed, u.bv_installed, u.repos_found, u.repos_checked,
  r.ready, r.ready_high, r.blocked, r.in_progress, r.not_closed, coalesce(r.errors, 0) AS errors, r.idle_repos_with_ready
FROM runs u LEFT JOIN repos r USING (machine_id);
COMMENT ON VIEW v1.beads_machines IS 'Per machine, its last beads run: br and bv installed, repositories with a .beads/ found and checked, and their ready, ready P0/P1, blocked, in-progress and not-closed issues, failed commands, repositories with ready work and no agent';

-- The beads health factors, in health_factors' shape (views/v1/30_health.sql adds them):
--   beads_blocked     issues blocked in a repository;
--   beads_idle_ready  ready P0/P1 issues in a repository no agent works in (only where the agents
--                     collector has run, so "no agent" is known);
--   beads_cycles      dependency cycles (their issues never become ready);
--   beads_errors      br/bv commands that failed there, plus one when bv dropped records it could not load.
CREATE VIEW v1.beads_factors AS
WITH blockers AS (
  SELECT machine_id, repo, list({id: id, title: title, unblocks: unblocks} ORDER BY rank) AS blockers
  FROM v1.beads_picks WHERE kind = 'blocker' GROUP BY ALL
),
top_ready AS (
  SELECT machine_id, repo, arg_min(id, priority * 1000000 - coalesce(dependent_count, 0)) AS id
  FROM v1.beads_ready WHERE priority <= 1 GROUP BY ALL
),
blocked AS (
  SELECT r.machine_id, 'beads_blocked' AS factor_id, r.repo AS subject, r.blocked AS value,
    format('{}: {} blocked issues ({} ready, {} in progress, {} not closed)', r.repo, r.blocked, coalesce(r.ready::VARCHAR, '?'),
      coalesce(r.in_progress::VARCHAR, '?'), coalesce(r.not_closed::VARCHAR, '?')) AS summary,
    to_json({repo: r.repo, blocked: r.blocked, ready: r.ready, in_progress: r.in_progress, not_closed: r.not_closed,
      counted_by: r.counted_by, blockers_to_clear: coalesce(b.blockers, [])}) AS evidence,
    format('{}: {} blocked issues in {}', r.machine_id, r.blocked, r.name) AS title,
    ['vc report beads --md', vc_query_cmd(r.machine_id, 'repo, id, priority, dependency_count, dependent_count, title', 'beads_blocked', ' ORDER BY dependent_count DESC, priority')] AS next,
    'br blocked --json' AS fix
  FROM beads_repos r LEFT JOIN blockers b USING (machine_id, repo)
  WHERE r.blocked IS NOT NULL
),
idle AS (
  SELECT r.machine_id, 'beads_idle_ready' AS factor_id, r.repo AS subject, r.ready_high AS value,
    format('{}: {} ready P0/P1 issues ({} ready in all) and no agent running there{}', r.repo, r.ready_high, r.ready,
      CASE WHEN r.top_id IS NOT NULL THEN format('; bv''s top pick: {} {}', r.top_id, coalesce(r.top_title, '')) ELSE '' END) AS summary,
    to_json({repo: r.repo, ready_high: r.ready_high, ready: r.ready, agents: r.agents, top_id: r.top_id, top_title: r.top_title,
      top_score: r.top_score, first_ready: t.id}) AS evidence,
    format('{}: {} ready P0/P1 issues in {} with no agent', r.machine_id, r.ready_high, r.name) AS title,
    ['vc report beads --md', vc_query_cmd(r.machine_id, 'repo, id, priority, issue_type, title', 'beads_ready', ' AND agents = 0 ORDER BY priority, repo')] AS next,
    -- An issue id is a plain word (prefix-hash); anything else is not spliced into a command.
    CASE WHEN regexp_full_match(t.id, '[A-Za-z0-9][A-Za-z0-9._-]{0,80}') THEN format('br show {} --json', t.id) ELSE 'br ready --json' END AS fix
  FROM beads_repos r LEFT JOIN top_ready t USING (machine_id, repo)
  WHERE r.agents = 0 AND r.ready_high IS NOT NULL
),
cycles AS (
  SELECT machine_id, 'beads_cycles' AS factor_id, repo AS subject, cycles AS value,
    format('{}: {} dependency cycles; the issues in them can never become ready', repo, cycles) AS summary,
    to_json({repo: repo, cycles: cycles}) AS evidence,
    format('{}: dependency cycles in {}', machine_id, name) AS title,
    ['vc report beads --md'] AS next,
    'bv --robot-insights' AS fix
  FROM beads_repos WHERE cycles IS NOT NULL
),
errs AS (
  SELECT r.machine_id, 'beads_errors' AS factor_id, r.repo AS subject, r.errors + (coalesce(r.load_errors, 0) > 0)::INTEGER AS value,
    format('{}: {}{}', r.repo,
      CASE WHEN r.errors > 0 THEN format('{} failed ({})', array_to_string(r.failed_steps, ', '), (SELECT first(e.message ORDER BY e.step) FROM v1.beads_errors e WHERE e.machine_id = r.machine_id AND e.repo = r.repo)) ELSE 'no command failed' END,
      CASE WHEN coalesce(r.load_errors, 0) > 0 THEN format('; bv dropped {} records it could not load', r.load_errors) ELSE '' END) AS summary,
    to_json({repo: r.repo, failed_steps: r.failed_steps, load_errors: r.load_errors, degraded: r.degraded}) AS evidence,
    format('{}: beads unreadable in {}', r.machine_id, r.name) AS title,
    ['vc report beads --md', vc_query_cmd(r.machine_id, 'repo, step, exit_code, error_kind, error_code, message', 'beads_errors', '')] AS next,
    CASE WHEN r.errors > 0 THEN r.failed_steps[1] ELSE 'bv --robot-triage' END AS fix
  FROM beads_repos r
)
FROM blocked UNION ALL BY NAME FROM idle UNION ALL BY NAME FROM cycles UNION ALL BY NAME FROM errs;
COMMENT ON VIEW v1.beads_factors IS 'beads health factors per machine and repository: beads_blocked (blocked issues), beads_idle_ready (ready P0/P1 issues and no agent there), beads_cycles (dependency cycles), beads_errors (failed br/bv commands, bv load errors)';
