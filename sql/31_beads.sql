-- Source `beads` (br and bv, per repository with a .beads/ tracker; lib/sources/beads.ts): per run
-- a `run` row (tools found, repositories found and checked), a `repo` row per repository (br and
-- bv counts), an `issue` row per issue that is not closed, a `pick` row per item bv ranks and an
-- `error` row per command that failed in a repository.

CREATE MACRO vc_beads_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, repo VARCHAR,
    repos_found INTEGER, repos_checked INTEGER, br_installed BOOLEAN, bv_installed BOOLEAN,
    ready_count INTEGER, list_count INTEGER, list_total INTEGER, list_shape VARCHAR,
    data_hash VARCHAR, bv_generated_at TIMESTAMP,
    issue_count INTEGER, actionable_count INTEGER, not_closed_count INTEGER, not_actionable_count INTEGER,
    open_count INTEGER, blocked_count INTEGER, in_progress_count INTEGER, closed_count INTEGER, counts_era VARCHAR,
    has_cycles BOOLEAN, cycle_count INTEGER, stale_count INTEGER, closed_last_7_days INTEGER, closed_last_30_days INTEGER,
    history_status VARCHAR, degraded VARCHAR[], load_errors INTEGER, claim_top VARCHAR,
    plan_tracks INTEGER, plan_actionable INTEGER, plan_blocked INTEGER, plan_highest_impact VARCHAR, plan_unblocks_count INTEGER,
    insight_cycles INTEGER, insight_articulation INTEGER, insight_orphans INTEGER, cluster_density DOUBLE,
    id VARCHAR, title VARCHAR, status VARCHAR, priority INTEGER, issue_type VARCHAR, assignee VARCHAR,
    created_at TIMESTAMP, updated_at TIMESTAMP, defer_until TIMESTAMP, due_at TIMESTAMP, labels VARCHAR[],
    dependency_count INTEGER, dependent_count INTEGER, ready BOOLEAN,
    kind VARCHAR, rank INTEGER, score DOUBLE, action VARCHAR, reason VARCHAR, unblocks INTEGER, blocked_by INTEGER, actionable BOOLEAN,
    step VARCHAR, exit_code INTEGER, error_kind VARCHAR, error_code VARCHAR, message VARCHAR, retryable BOOLEAN
  )'
};

CREATE VIEW beads AS
FROM vc_read_days(getvariable('vc_files_beads'), getvariable('vc_parquet_beads'), vc_beads_columns());
COMMENT ON VIEW beads IS 'Source beads (all history; day = the day it was collected): per run of br/bv in each repository with a .beads/ tracker, a run row (repos_found, repos_checked, br_installed, bv_installed), a repo row (ready_count, list_count, bv triage/plan/insights counts), an issue row per issue not closed (status, priority, ready), a pick row per item bv ranks (kind, rank, score) and an error row per failed command';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as beads_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_beads_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_beads'), getvariable('vc_recent_parquet_beads'), getvariable('vc_recent_tail_beads'), getvariable('vc_tolerant'), vc_beads_columns());
