-- pt's findings as health factors: each process pt's latest plan would act on (not the ones it
-- spares), with pt's own command for the action as the fix (shown, never run by vc): the
-- supervisor's command where pt found one (systemctl, docker, ...), else `pt agent apply` for a
-- kill, `pt agent explain` for the rest. pt's session id and pid are checked plain words.

CREATE VIEW v1.pt_findings AS
SELECT c.*, p.session_dir,
  CASE WHEN c.supervisor_command IS NOT NULL THEN c.supervisor_command
    WHEN c.session_id IS NULL THEN NULL
    WHEN c.recommended_action = 'kill' THEN format('pt agent apply --session {} --pids {}', c.session_id, c.pid)
    ELSE format('pt agent explain --session {} --pids {}', c.session_id, c.pid) END AS fix
FROM v1.pt_candidates c LEFT JOIN v1.pt_plans p USING (machine_id)
WHERE c.plan_set IN ('kill', 'review');
COMMENT ON VIEW v1.pt_findings IS 'Processes pt''s latest plan recommends acting on (plan_set kill or review), with fix: pt''s command for it (a supervisor''s own command, else pt agent apply/explain --session ... --pids ...), shown, never run';

CREATE VIEW v1.pt_factors AS
SELECT machine_id, CASE plan_set WHEN 'kill' THEN 'pt_kill' ELSE 'pt_review' END AS factor_id,
  coalesce(start_id, pid::VARCHAR) AS subject, score AS value,
  format('{} (pid {}, {}) is {} by pt''s reckoning ({}% sure, {} confidence): {} MiB, {}% CPU over its life, {} old; pt recommends {}{}',
    coalesce(command_short, '?'), pid, coalesce("user", '?'), coalesce(classification, '?'), score, coalesce(confidence, '?'),
    coalesce(memory_mb::VARCHAR, '?'), coalesce(cpu_percent::VARCHAR, '?'), coalesce(human_age(age_seconds), '?'), recommended_action,
    CASE WHEN policy_blocked THEN format(' (policy: {})', coalesce(policy_violation, policy_violation_kind, 'blocked')) ELSE '' END) AS summary,
  to_json({pid: pid, start_id: start_id, command: command, classification: classification, score: score, confidence: confidence,
    posterior_abandoned: posterior_abandoned, posterior_zombie: posterior_zombie, memory_mb: memory_mb, cpu_percent: cpu_percent,
    age_seconds: age_seconds, recommended_action: recommended_action, action_rationale: action_rationale, policy_blocked: policy_blocked,
    supervisor: supervisor_type, evidence: evidence, session_id: session_id, session_dir: session_dir, planned_at: collected_at}) AS evidence,
  format('{}: pt recommends {} of pid {} ({}, {})', machine_id, CASE recommended_action WHEN 'review' THEN 'a review' ELSE recommended_action END,
    pid, coalesce(command_short, '?'), coalesce(classification, '?')) AS title,
  [vc_query_cmd(machine_id, 'pid, command_short, classification, score, memory_mb, recommended_action, plan_set, fix', 'pt_findings', ' ORDER BY score DESC'),
   vc_query_cmd(machine_id, 'session_id, session_dir, kill_recommendations, review_recommendations, expected_memory_freed_gb', 'pt_plans', '')] AS next,
  fix
FROM v1.pt_findings;
COMMENT ON VIEW v1.pt_factors IS 'pt findings as health factors: pt_kill and pt_review per process of the latest plan (subject: start_id, value: pt''s score 0-100), fix: pt''s command for it';
