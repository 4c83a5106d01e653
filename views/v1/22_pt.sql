-- pt staging: each machine's last successful pt plan.

CREATE VIEW v1.pt_latest AS
SELECT p.* FROM pt_recent p JOIN last_ok_runs l ON l.source = 'pt' AND p.machine_id = l.machine_id AND p.run_id = l.run_id;
COMMENT ON VIEW v1.pt_latest IS 'The rows of the last successful pt run of each machine: its run row and a candidate row per process in the plan';

CREATE VIEW v1.pt_plans AS
SELECT machine_id, collected_at, exit_code, pt_version, session_id, session_dir, generated_at, hostname, cores,
  memory_total_gb, memory_used_gb, load1, load5, load15, total_processes, protected_filtered, above_threshold,
  candidates_returned, kill_recommendations, review_recommendations, policy_blocked_count, threshold_used,
  expected_memory_freed_gb, scan_duration_ms
FROM pt_latest WHERE "type" = 'run';
COMMENT ON VIEW v1.pt_plans IS 'Per machine, pt''s latest plan: session id and the session directory that run made, host load and memory, processes scanned, candidates, kill and review recommendations, memory a kill of the kill set would free';

CREATE VIEW v1.pt_candidates AS
SELECT machine_id, collected_at, session_id, pid, ppid, start_id, state, "user", command, command_short, classification,
  age_seconds, memory_mb, cpu_percent, score, posterior_useful, posterior_useful_bad, posterior_abandoned, posterior_zombie,
  confidence, signature_name, signature_category, recommended_action, action_rationale, plan_set, policy_blocked,
  policy_violation_kind, policy_violation, reversibility, supervisor_type, supervisor_unit, supervisor_action,
  supervisor_command, evidence
FROM pt_latest WHERE "type" = 'candidate';
COMMENT ON VIEW v1.pt_candidates IS 'The processes in each machine''s latest pt plan: identity (pid, start_id), classification (useful, useful_bad, abandoned, zombie) with posterior and score (pt''s confidence, 0-100), memory (MiB), lifetime CPU %, age, the recommended action and plan_set (kill, review, spare), the policy''s verdict and a supervisor''s own command';
