-- Source `pt` (process_triage): what `pt robot plan --format json` said on each run
-- (lib/sources/pt.ts): a `run` row (exit status, session id and directory, host, scan and summary
-- counts) and a `candidate` row per process in the plan, with pt's classification, confidence
-- and recommended action.

CREATE MACRO vc_pt_columns() AS {
  machine_id: 'VARCHAR', collected_at: 'TIMESTAMP', run_id: 'VARCHAR', collector_version: 'VARCHAR',
  schema_version: 'INTEGER', "key": 'VARCHAR',
  data: 'STRUCT(
    "type" VARCHAR, exit_code INTEGER, pt_version VARCHAR, schema_version VARCHAR, session_id VARCHAR, session_dir VARCHAR,
    generated_at TIMESTAMP, host_id VARCHAR, hostname VARCHAR, cores INTEGER, memory_total_gb DOUBLE, memory_used_gb DOUBLE,
    load1 DOUBLE, load5 DOUBLE, load15 DOUBLE, total_processes INTEGER, protected_filtered INTEGER, above_threshold INTEGER,
    candidates_returned INTEGER, kill_recommendations INTEGER, review_recommendations INTEGER, policy_blocked_count INTEGER,
    threshold_used DOUBLE, expected_memory_freed_gb DOUBLE, scan_duration_ms BIGINT,
    pid BIGINT, ppid BIGINT, start_id VARCHAR, state VARCHAR, "user" VARCHAR, command VARCHAR, command_short VARCHAR,
    classification VARCHAR, age_seconds BIGINT, memory_mb BIGINT, cpu_percent DOUBLE, score INTEGER,
    posterior_useful DOUBLE, posterior_useful_bad DOUBLE, posterior_abandoned DOUBLE, posterior_zombie DOUBLE,
    confidence VARCHAR, signature_name VARCHAR, signature_category VARCHAR, recommended_action VARCHAR, action_rationale VARCHAR,
    plan_set VARCHAR, policy_blocked BOOLEAN, policy_violation_kind VARCHAR, policy_violation VARCHAR, reversibility VARCHAR,
    supervisor_type VARCHAR, supervisor_unit VARCHAR, supervisor_action VARCHAR, supervisor_command VARCHAR, evidence VARCHAR[]
  )'
};

CREATE VIEW pt AS
FROM vc_read_days(getvariable('vc_files_pt'), getvariable('vc_parquet_pt'), vc_pt_columns());
COMMENT ON VIEW pt IS 'Source pt (all history; day = the day it was collected): per run of pt robot plan a run row (exit_code 0: no candidates, 1: a plan; session_id, session_dir, scan and summary counts) and a candidate row per process (pid, start_id, classification, score, memory, recommended_action, plan_set, policy, supervisor command)';

-- The recent window's rows (the last hours, plus each machine's newest day): what every derived
-- view reads as pt_recent, which each session sets up once (lib/duck.ts loadRecent).
CREATE MACRO vc_pt_recent() AS TABLE
FROM vc_read(getvariable('vc_recent_pt'), getvariable('vc_recent_parquet_pt'), getvariable('vc_recent_tail_pt'), getvariable('vc_tolerant'), vc_pt_columns());
