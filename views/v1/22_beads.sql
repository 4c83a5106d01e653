-- beads' latest answer per machine: the rows of each machine's last successful beads run, split
-- by row type into typed views (one row per repository, per issue, per ranked item, per error).

CREATE VIEW v1.beads_latest AS
SELECT b.* FROM beads_recent b JOIN last_ok_runs l ON l.source = 'beads' AND b.machine_id = l.machine_id AND b.run_id = l.run_id;
COMMENT ON VIEW v1.beads_latest IS 'The rows of the last successful beads run of each machine: its run row, a repo row per repository with a .beads/ tracker, its issue, pick and error rows';

CREATE VIEW v1.beads_repo_stats AS
SELECT machine_id, collected_at, repo, regexp_extract(repo, '[^/]+$') AS name,
  ready_count, list_count, list_total, list_shape, data_hash, bv_generated_at,
  issue_count, actionable_count, not_closed_count, not_actionable_count, open_count, blocked_count, in_progress_count,
  closed_count, counts_era, has_cycles, cycle_count, stale_count, closed_last_7_days, closed_last_30_days, history_status,
  degraded, load_errors, claim_top, plan_tracks, plan_actionable, plan_blocked, plan_highest_impact, plan_unblocks_count,
  insight_cycles, insight_articulation, insight_orphans, cluster_density
FROM beads_latest WHERE "type" = 'repo'
QUALIFY row_number() OVER (PARTITION BY machine_id, repo ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.beads_repo_stats IS 'Per machine and repository with a .beads/ tracker, its last run''s counts: br ready and list (NULL where br was not read), bv triage (actionable, not closed, strict open/blocked/in_progress; counts_era legacy = an older bv), plan (tracks, actionable, blocked, highest impact) and insights (cycles, cut vertices, orphans, density)';

-- An issue's state: ready (br ready returned it), in_progress, blocked (its status, or not ready
-- while it waits on a dependency), deferred, unknown (br ready was not read), other (not ready
-- with no dependency: pinned, a template, a status outside the ready group).
CREATE VIEW v1.beads_issues AS
SELECT machine_id, collected_at, repo, regexp_extract(repo, '[^/]+$') AS name, id, title, status, priority, issue_type, assignee,
  created_at, updated_at, defer_until, due_at, coalesce(labels, []::VARCHAR[]) AS labels, dependency_count, dependent_count, ready,
  CASE
    WHEN ready THEN 'ready'
    WHEN status = 'in_progress' THEN 'in_progress'
    WHEN status = 'blocked' THEN 'blocked'
    WHEN status = 'deferred' OR defer_until > vc_now() THEN 'deferred'
    WHEN ready IS NULL THEN 'unknown'
    WHEN coalesce(dependency_count, 0) > 0 THEN 'blocked'
    ELSE 'other' END AS state
FROM beads_latest WHERE "type" = 'issue'
QUALIFY row_number() OVER (PARTITION BY machine_id, repo, id ORDER BY updated_at DESC NULLS LAST) = 1;
COMMENT ON VIEW v1.beads_issues IS 'Issues not closed per machine and repository (br list, ready from br ready): status, priority (0 = P0), type, assignee, dependency counts and a state: ready, in_progress, blocked, deferred, unknown (br ready not read) or other';

CREATE VIEW v1.beads_picks AS
SELECT machine_id, collected_at, repo, regexp_extract(repo, '[^/]+$') AS name, kind, rank, id, title, score, status, priority,
  issue_type, assignee, action, reason, unblocks, blocked_by, actionable
FROM beads_latest WHERE "type" = 'pick'
QUALIFY row_number() OVER (PARTITION BY machine_id, repo, kind, rank ORDER BY collected_at DESC) = 1;
COMMENT ON VIEW v1.beads_picks IS 'What bv ranks per repository: kind (top_pick, recommendation, quick_win, blocker to clear, bottleneck), rank (1 = first), issue, score, action, first reason, how many issues it unblocks and how many block it';

CREATE VIEW v1.beads_errors AS
SELECT machine_id, collected_at, repo, regexp_extract(repo, '[^/]+$') AS name, step, exit_code, error_kind, error_code, message, retryable
FROM beads_latest WHERE "type" = 'error';
COMMENT ON VIEW v1.beads_errors IS 'br/bv commands that failed in a repository on the last run: the command, exit status, kind (tool: its own error report; timeout; output: not readable; size: too large), br''s error code and the message';
