-- Accounts: caut and caam merged per machine, provider and account (views/v1/26_accounts.sql).

-- name: alerts
-- Windows of accounts in use at or past the warn threshold, fullest first, with caam's fix.
SELECT f.machine_id, f.subject, f.value AS used_percent, grade(f.value, t.warn, t.crit, t.higher_is_worse) AS severity,
  f.title, f.summary, f.fix, f.evidence->>'time_to_limit_s' AS time_to_limit_s
FROM v1.accounts_factors f JOIN v1.health_thresholds t USING (factor_id)
WHERE grade(f.value, t.warn, t.crit, t.higher_is_worse) IN ('warn', 'crit')
ORDER BY f.value DESC, f.machine_id, f.subject;

-- name: accounts
SELECT machine_id, provider, account, profile, in_use, seen_by, plan_type, login_method, auth_warning, caam_rank, caam_error,
  health_status, health_reason, health_expires_at, cooldown_until, windows, worst_window, worst_used_percent, headroom_percent,
  time_to_limit_s, limit_window, credits_has_credits, credits_unlimited, credits_balance, burn_tokens_per_hour, estimated_depletion,
  caut_at, caam_fetched_at
FROM v1.accounts
ORDER BY machine_id, provider, NOT in_use, headroom_percent DESC NULLS LAST, account;

-- name: windows
SELECT machine_id, provider, account, profile, in_use, "window", window_label, window_minutes, used_percent, resets_at, is_reset,
  measured_by, measured_at, caut_used_percent, caut_measured_at, caam_used_percent, caam_measured_at, caam_severity,
  percent_per_hour, trend_samples, time_to_limit_s, limit_at, resets_first
FROM v1.account_windows
ORDER BY NOT in_use, is_reset, used_percent DESC NULLS LAST, machine_id, provider, account, "window";

-- name: recommendations
SELECT machine_id, provider, profiles, current_profile, current_load_percent, caam_best_profile, best_profile,
  best_headroom_percent, urgency, switch, command
FROM v1.caam_recommendations
ORDER BY CASE urgency WHEN 'now' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END, machine_id, provider;

-- name: tools
SELECT machine_id, tool, logged_in, active_profile, error, health_status, health_reason, health_expires_at, health_error_count,
  cooldown_until, identity_email, identity_plan_type
FROM v1.caam_tools ORDER BY machine_id, tool;

-- name: notes
-- caam status's own warnings and recommendations: free text, shown as caam wrote it.
SELECT machine_id, coalesce(warnings, []) AS warnings, coalesce(recommendations, []) AS recommendations
FROM caam_latest
WHERE "type" = 'run' AND (len(coalesce(warnings, [])) > 0 OR len(coalesce(recommendations, [])) > 0)
ORDER BY machine_id;
