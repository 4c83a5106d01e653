-- beads: ready work and blocked issues per machine and repository (views/v1/26_beads.sql).

-- name: machines
SELECT * FROM v1.beads_machines ORDER BY machine_id;

-- name: repos
-- Ready work no agent is on first, then by ready and blocked issues.
SELECT machine_id, repo, name, counted_by, ready, ready_high, blocked, in_progress, deferred, not_closed, agents, agent_names,
  top_id, top_title, top_score, cycles, plan_tracks, stale_count, closed_last_7_days, errors, failed_steps, load_errors, degraded,
  claim_top, counts_era
FROM beads_repos
ORDER BY coalesce(agents = 0 AND ready > 0, false) DESC, ready_high DESC NULLS LAST, ready DESC NULLS LAST, blocked DESC NULLS LAST, machine_id, repo;

-- name: ready
-- The 100 most urgent ready issues: by priority (0 = P0), then the issues waiting on them.
SELECT machine_id, repo, name, id, title, priority, issue_type, status, assignee, labels, dependent_count, updated_at, age_s, agents
FROM v1.beads_ready
ORDER BY priority, dependent_count DESC NULLS LAST, updated_at, machine_id, repo, id
LIMIT 100;

-- name: blocked
-- The 100 blocked issues that hold up the most others.
SELECT machine_id, repo, name, id, title, priority, issue_type, status, assignee, dependency_count, dependent_count, updated_at, age_s
FROM v1.beads_blocked
ORDER BY dependent_count DESC NULLS LAST, priority, machine_id, repo, id
LIMIT 100;

-- name: picks
-- bv's top picks and its first three recommendations per repository.
SELECT machine_id, repo, name, kind, rank, id, title, score, status, priority, assignee, action, reason, unblocks, blocked_by
FROM v1.beads_picks
WHERE kind = 'top_pick' OR (kind = 'recommendation' AND rank <= 3)
ORDER BY machine_id, repo, kind DESC, rank;

-- name: errors
SELECT machine_id, repo, name, step, exit_code, error_kind, error_code, message, retryable
FROM v1.beads_errors ORDER BY machine_id, repo, step;
