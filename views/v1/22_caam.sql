-- caam's latest answer per machine: the rows of each machine's last successful caam run.

CREATE VIEW v1.caam_latest AS
SELECT c.* FROM caam_recent c JOIN last_ok_runs l ON l.source = 'caam' AND c.machine_id = l.machine_id AND c.run_id = l.run_id;
COMMENT ON VIEW v1.caam_latest IS 'The rows of the last successful caam run of each machine: its run row, a tool row per tool, a profile row per vault profile';

CREATE VIEW v1.caam_tools AS
SELECT machine_id, collected_at, provider AS tool, logged_in, profile AS active_profile, error,
  health_status, health_reason, health_expires_at, health_error_count, cooldown_remaining_s,
  -- caam gives the time left at collection: the cooldown ends that long after it.
  collected_at + to_seconds(cooldown_remaining_s) AS cooldown_until,
  identity_email, identity_organization, identity_plan_type, identity_account_id, identity_expires_at
FROM caam_latest WHERE "type" = 'tool';
COMMENT ON VIEW v1.caam_tools IS 'Per machine and tool (claude, codex, gemini, ...): logged in or not, the vault profile matching the live login (NULL: none matches), its health, expiry, errors in the last hour, cooldown end, identity (e-mail, plan)';

CREATE VIEW v1.caam_profiles AS
SELECT p.machine_id, p.collected_at, p.provider, p.profile, p."rank", p.error, p.plan_type, p.rate_limit_tier, p.fetched_at,
  coalesce(t.active_profile = p.profile, false) AS active,
  p.primary_used_percent, p.primary_resets_at, p.secondary_used_percent, p.secondary_resets_at,
  p.tertiary_used_percent, p.tertiary_resets_at,
  p.credits_has_credits, p.credits_unlimited, p.credits_balance,
  p.burn_tokens_per_hour, p.burn_percent_per_hour, p.burn_confidence, p.estimated_depletion, p.depletion_confidence
FROM caam_latest p
LEFT JOIN v1.caam_tools t ON t.machine_id = p.machine_id AND t.tool = p.provider
WHERE p."type" = 'profile';
COMMENT ON VIEW v1.caam_profiles IS 'Per machine, one row per vault profile caam limits reported: provider, profile, caam''s rank among the provider''s profiles (its availability order, 1 = best), error, plan, whether it is the active one, window use and resets, credits, burn rate, predicted depletion';

CREATE VIEW v1.caam_limits AS
WITH p AS (FROM caam_latest WHERE "type" = 'profile')
SELECT machine_id, collected_at, provider, profile, "rank", fetched_at, w.*
FROM p, LATERAL (SELECT * FROM (VALUES
    ('primary', primary_used_percent, primary_window_seconds, primary_resets_at, primary_severity),
    ('secondary', secondary_used_percent, secondary_window_seconds, secondary_resets_at, secondary_severity),
    ('tertiary', tertiary_used_percent, tertiary_window_seconds, tertiary_resets_at, tertiary_severity)
  ) v("window", used_percent, window_seconds, resets_at, severity) WHERE used_percent IS NOT NULL OR resets_at IS NOT NULL) w
UNION ALL
SELECT machine_id, collected_at, provider, profile, "rank", fetched_at,
  'model:' || m.model AS "window", m.used_percent, m.window_seconds, m.resets_at, m.severity
FROM (SELECT *, unnest(model_windows) AS m FROM p)
WHERE m.used_percent IS NOT NULL OR m.resets_at IS NOT NULL;
COMMENT ON VIEW v1.caam_limits IS 'One row per vault profile and quota window caam limits reported (primary: 5-hour, secondary: weekly, tertiary: weekly Opus, model:<name>: a model''s scoped quota), with used % (utilization x 100), window length in seconds and reset time; windows caam had no data for are left out';
