-- Accounts: the coding agents' provider accounts on each machine, as caut (the account logged in
-- now, per provider) and caam (every vault profile, which one each tool is logged in as, and each
-- profile's live quota) see them, merged per machine, provider and account; the use of each usage
-- window with the time left before it reaches its limit; the profile caam data says to switch to.
--
-- Matching: caut and caam both read the machine's live login, so caut's row for a provider is
-- caam's active profile for that tool (unless caam's identity e-mail says otherwise), else the
-- vault profile named like caut's account. An account is keyed by its caam profile name where it
-- has one, else by caut's account.

-- A string as one sh word: plain words as they are, anything else single-quoted. Profile names
-- come from the machine (often e-mail addresses): a command shown to the user must stay one word.
CREATE MACRO vc_sh_word(s) AS CASE WHEN regexp_full_match(s, '[A-Za-z0-9._@%+=:,/-]+') THEN s
  ELSE '''' || replace(s, '''', '''"''"''') || '''' END;

-- A usage window's name for people: 5-hour, weekly, a model's name, or its length.
CREATE MACRO vc_window_label(w, minutes) AS CASE
  WHEN starts_with(w, 'model:') THEN substr(w, 7)
  WHEN w = 'tertiary' THEN 'weekly model-scoped'
  WHEN minutes = 300 THEN '5-hour'
  WHEN minutes = 10080 THEN 'weekly'
  WHEN minutes IS NOT NULL THEN human_age(minutes * 60)
  ELSE w END;

CREATE VIEW v1.account_links AS
WITH caut_acc AS (
  -- caut answers one row per provider (the live login).
  SELECT machine_id, provider, account, coalesce(updated_at, collected_at) AS caut_at, login_method, auth_warning
  FROM caut_latest WHERE "type" = 'provider'
  QUALIFY row_number() OVER (PARTITION BY machine_id, provider ORDER BY account NULLS LAST) = 1
),
active AS (FROM v1.caam_tools WHERE active_profile IS NOT NULL),
caut_linked AS (
  SELECT c.*, coalesce(
      CASE WHEN a.identity_email IS NULL OR c.account IS NULL OR a.identity_email = c.account THEN a.active_profile END,
      (SELECT min(p.profile) FROM v1.caam_profiles p WHERE p.machine_id = c.machine_id AND p.provider = c.provider AND p.profile = c.account)
    ) AS profile
  FROM caut_acc c LEFT JOIN active a ON a.machine_id = c.machine_id AND a.tool = c.provider
),
profiles AS (
  FROM v1.caam_profiles
  QUALIFY row_number() OVER (PARTITION BY machine_id, provider, profile ORDER BY "rank") = 1
),
keys AS (
  SELECT machine_id, provider, coalesce(profile, account, '') AS account_key FROM caut_linked
  UNION SELECT machine_id, provider, profile FROM profiles
  UNION SELECT machine_id, tool, active_profile FROM active
)
SELECT k.machine_id, k.provider, k.account_key,
  -- caut may know a login without its e-mail (e.g. Codex with only an account id).
  coalesce(c.account, t.identity_email, p.profile, t.active_profile, '(unknown)') AS account,
  coalesce(c.profile, p.profile, t.active_profile) AS profile,
  -- In use: caut's live login (unless caut found no credentials), or caam's active profile.
  (c.machine_id IS NOT NULL AND c.login_method IS DISTINCT FROM 'cli-unauthenticated') OR t.machine_id IS NOT NULL AS in_use,
  list_filter(['caut', 'caam'], s -> (s = 'caut' AND c.machine_id IS NOT NULL) OR (s = 'caam' AND (p.machine_id IS NOT NULL OR t.machine_id IS NOT NULL))) AS seen_by,
  c.machine_id IS NOT NULL AS from_caut, c.account AS caut_account, c.caut_at, c.login_method, c.auth_warning,
  p.machine_id IS NOT NULL AS from_caam_limits, p."rank" AS caam_rank, p.error AS caam_error, p.fetched_at AS caam_fetched_at,
  coalesce(p.plan_type, t.identity_plan_type) AS plan_type,
  t.health_status, t.health_reason, t.health_expires_at, t.health_error_count, t.cooldown_until,
  p.credits_has_credits, p.credits_unlimited, p.credits_balance, p.burn_tokens_per_hour, p.estimated_depletion
FROM keys k
LEFT JOIN caut_linked c ON c.machine_id = k.machine_id AND c.provider = k.provider AND coalesce(c.profile, c.account, '') = k.account_key
LEFT JOIN profiles p ON p.machine_id = k.machine_id AND p.provider = k.provider AND p.profile = k.account_key
LEFT JOIN active t ON t.machine_id = k.machine_id AND t.tool = k.provider AND t.active_profile = k.account_key;
COMMENT ON VIEW v1.account_links IS 'One row per machine, provider and account (account_key: the caam profile, else caut''s account): the account (e-mail where known), its caam profile, whether it is in use (caut''s live login or caam''s active profile), which tools saw it, caut''s login and auth warning, caam''s rank, row error, plan, health, cooldown, credits and burn rate';

-- Time to limit: the slope of used % over caut's runs in the recent window, within the window's
-- current period (the same reset time, give or take 10 minutes; without a reset time, the last
-- window length), from at least two samples 5 minutes apart. Projected from the newest reading
-- (caut's or caam's, whichever is fresher); NULL when it is not rising, or when the window resets
-- before the projected limit (resets_first).
CREATE VIEW v1.account_windows AS
WITH links AS (FROM v1.account_links),
caut_w AS (
  SELECT l.machine_id, l.provider, l.account_key, w."window", w.used_percent, w.window_minutes, w.resets_at,
    coalesce(w.updated_at, w.collected_at) AS measured_at
  FROM links l JOIN v1.caut_windows w ON w.machine_id = l.machine_id AND w.provider = l.provider
    AND w.account IS NOT DISTINCT FROM l.caut_account
  WHERE l.from_caut
),
caam_w AS (
  SELECT l.machine_id, l.provider, l.account_key, m."window", m.used_percent, m.window_seconds // 60 AS window_minutes,
    m.resets_at, coalesce(m.fetched_at, m.collected_at) AS measured_at, m.severity
  FROM links l JOIN v1.caam_limits m ON m.machine_id = l.machine_id AND m.provider = l.provider AND m.profile = l.profile
  WHERE l.from_caam_limits
),
both_w AS (
  SELECT coalesce(c.machine_id, m.machine_id) AS machine_id, coalesce(c.provider, m.provider) AS provider,
    coalesce(c.account_key, m.account_key) AS account_key, coalesce(c."window", m."window") AS "window",
    coalesce(c.window_minutes, m.window_minutes) AS window_minutes,
    c.used_percent AS caut_used_percent, c.resets_at AS caut_resets_at, c.measured_at AS caut_measured_at,
    m.used_percent AS caam_used_percent, m.resets_at AS caam_resets_at, m.measured_at AS caam_measured_at, m.severity AS caam_severity,
    -- The fresher reading wins; a tie goes to caut (its percent is not truncated by an older caam).
    c.used_percent IS NOT NULL AND (m.used_percent IS NULL OR c.measured_at >= m.measured_at) AS by_caut
  FROM caut_w c FULL JOIN caam_w m ON c.machine_id = m.machine_id AND c.provider = m.provider
    AND c.account_key = m.account_key AND c."window" = m."window"
),
chosen AS (
  SELECT *,
    CASE WHEN by_caut THEN caut_used_percent ELSE caam_used_percent END AS used_percent,
    CASE WHEN by_caut THEN coalesce(caut_resets_at, caam_resets_at) ELSE coalesce(caam_resets_at, caut_resets_at) END AS resets_at,
    CASE WHEN by_caut THEN caut_measured_at ELSE coalesce(caam_measured_at, caut_measured_at) END AS measured_at
  FROM both_w
),
caut_history AS (
  SELECT machine_id, provider, account, coalesce(updated_at, collected_at) AS at, h."window", h.used_percent, h.resets_at
  FROM caut_recent, LATERAL (SELECT * FROM (VALUES
      ('primary', primary_used_percent, primary_resets_at),
      ('secondary', secondary_used_percent, secondary_resets_at),
      ('tertiary', tertiary_used_percent, tertiary_resets_at)
    ) v("window", used_percent, resets_at) WHERE used_percent IS NOT NULL) h
  WHERE "type" = 'provider'
),
trend AS (
  SELECT c.machine_id, c.provider, c.account_key, c."window",
    regr_slope(h.used_percent, epoch(h.at)) * 3600 AS percent_per_hour,
    count(DISTINCT h.at) AS samples, epoch(max(h.at) - min(h.at)) AS span_s
  FROM chosen c
  JOIN links l ON l.machine_id = c.machine_id AND l.provider = c.provider AND l.account_key = c.account_key AND l.from_caut
  JOIN caut_history h ON h.machine_id = c.machine_id AND h.provider = c.provider AND h.account IS NOT DISTINCT FROM l.caut_account
    AND h."window" = c."window" AND h.at <= vc_now()
    AND CASE WHEN c.resets_at IS NOT NULL THEN h.resets_at IS NOT NULL AND abs(epoch(h.resets_at - c.resets_at)) <= 600
      ELSE h.resets_at IS NULL AND h.at >= c.measured_at - to_minutes(coalesce(c.window_minutes, 300)::BIGINT) END
  GROUP BY ALL
),
projected AS (
  SELECT c.*, t.samples, round(t.percent_per_hour, 2) AS percent_per_hour,
    c.resets_at IS NOT NULL AND c.resets_at <= vc_now() AS is_reset,
    CASE WHEN t.samples >= 2 AND t.span_s >= 300 AND t.percent_per_hour > 0 AND c.used_percent < 100
      THEN c.measured_at + to_microseconds(CAST((100 - c.used_percent) / t.percent_per_hour * 3600e6 AS BIGINT)) END AS pace_limit_at
  FROM chosen c
  LEFT JOIN trend t ON t.machine_id = c.machine_id AND t.provider = c.provider AND t.account_key = c.account_key AND t."window" = c."window"
)
SELECT p.machine_id, p.provider, l.account, l.profile, p.account_key, l.in_use, p."window",
  vc_window_label(p."window", p.window_minutes) AS window_label, p.window_minutes,
  p.used_percent, p.resets_at, p.is_reset, p.measured_at, CASE WHEN p.by_caut THEN 'caut' ELSE 'caam' END AS measured_by,
  p.caut_used_percent, p.caut_measured_at, p.caam_used_percent, p.caam_measured_at, p.caam_severity,
  p.percent_per_hour, coalesce(p.samples, 0) AS trend_samples,
  p.pace_limit_at IS NOT NULL AND p.resets_at IS NOT NULL AND p.pace_limit_at >= p.resets_at AS resets_first,
  CASE WHEN p.resets_at IS NULL OR p.pace_limit_at < p.resets_at THEN p.pace_limit_at END AS limit_at,
  CASE WHEN p.is_reset OR p.used_percent IS NULL THEN NULL
    WHEN p.used_percent >= 100 THEN 0
    WHEN p.pace_limit_at IS NULL OR (p.resets_at IS NOT NULL AND p.pace_limit_at >= p.resets_at) THEN NULL
    ELSE greatest(round(epoch(p.pace_limit_at - vc_now())), 0) END AS time_to_limit_s
FROM projected p
JOIN links l ON l.machine_id = p.machine_id AND l.provider = p.provider AND l.account_key = p.account_key;
COMMENT ON VIEW v1.account_windows IS 'One row per machine, account and usage window (primary: 5-hour, secondary: weekly, tertiary: weekly model-scoped, model:<name>): used % and reset time from the fresher of caut and caam (measured_by; both kept), whether the window has reset since, the used-% slope over caut''s recent runs in this window period, the projected limit time and time_to_limit_s (0: at the limit; NULL: not rising, or it resets first)';

CREATE VIEW v1.accounts AS
WITH w AS (
  SELECT machine_id, provider, account_key, count(*) AS windows,
    -- A window that has reset since it was measured counts as empty for headroom.
    max(CASE WHEN is_reset THEN 0 ELSE used_percent END) FILTER (WHERE "window" IN ('primary', 'secondary')) AS load_percent,
    arg_max("window", used_percent) FILTER (WHERE NOT is_reset AND used_percent IS NOT NULL) AS worst_window,
    max(used_percent) FILTER (WHERE NOT is_reset) AS worst_used_percent,
    min(time_to_limit_s) AS time_to_limit_s,
    arg_min("window", time_to_limit_s) AS limit_window
  FROM v1.account_windows GROUP BY ALL
)
SELECT l.machine_id, l.provider, l.account, l.profile, l.in_use, l.seen_by,
  l.plan_type, l.login_method, l.auth_warning, l.caam_rank, l.caam_error,
  l.health_status, l.health_reason, l.health_expires_at, l.cooldown_until,
  coalesce(w.windows, 0) AS windows, w.worst_window, w.worst_used_percent,
  100 - w.load_percent AS headroom_percent, w.time_to_limit_s, w.limit_window,
  l.credits_has_credits, l.credits_unlimited, l.credits_balance, l.burn_tokens_per_hour, l.estimated_depletion,
  l.caut_at, l.caam_fetched_at, l.from_caam_limits, l.account_key
FROM v1.account_links l
LEFT JOIN w ON w.machine_id = l.machine_id AND w.provider = l.provider AND w.account_key = l.account_key;
COMMENT ON VIEW v1.accounts IS 'One row per machine, provider and account (caut and caam merged): profile, in use or not, plan, login and auth warning (caut), caam''s rank, row error, health and cooldown, the fullest window still running and its used %, headroom (100 minus the fuller of the 5-hour and weekly windows; NULL: unmeasured), the soonest time to a limit and its window, credits, burn rate';

-- caam's recommendation, derived: caam has no recommend command, and its `limits --best` and
-- `--recommend` only re-rank the rows `limits` printed. caam_best_profile follows --best (the first
-- row, in caam's own availability order, with no error and below caam's default threshold of 80 %;
-- else the first row with no error), applied to the fuller of the 5-hour and weekly windows; the
-- urgency follows --recommend (now from 90 %, soon from 80 %). best_profile is the profile with
-- the most headroom (no error, not cooling down; caam's order breaks ties), and `command` the
-- caam command that switches to it (caam robot next prints the same `caam activate <provider> <profile>`).
CREATE VIEW v1.caam_recommendations AS
WITH cand AS (
  SELECT machine_id, provider, profile, caam_rank, caam_error, headroom_percent, 100 - headroom_percent AS load_percent,
    coalesce(cooldown_until > vc_now(), false) AS cooling_down
  FROM v1.accounts WHERE from_caam_limits
),
cur AS (
  SELECT machine_id, provider, profile, 100 - headroom_percent AS load_percent FROM v1.accounts WHERE in_use
  QUALIFY row_number() OVER (PARTITION BY machine_id, provider ORDER BY list_contains(seen_by, 'caam') DESC, account_key) = 1
),
ranked AS (
  SELECT machine_id, provider, count(*) AS profiles,
    coalesce(first(profile ORDER BY caam_rank) FILTER (WHERE caam_error IS NULL AND load_percent < 80),
      first(profile ORDER BY caam_rank) FILTER (WHERE caam_error IS NULL)) AS caam_best_profile,
    first(profile ORDER BY headroom_percent DESC, caam_rank) FILTER (WHERE caam_error IS NULL AND headroom_percent IS NOT NULL AND NOT cooling_down) AS best_profile,
    max(headroom_percent) FILTER (WHERE caam_error IS NULL AND NOT cooling_down) AS best_headroom_percent
  FROM cand GROUP BY ALL
)
SELECT r.machine_id, r.provider, r.profiles, c.profile AS current_profile, c.load_percent AS current_load_percent,
  r.caam_best_profile, r.best_profile, r.best_headroom_percent,
  CASE WHEN c.load_percent >= 90 THEN 'now' WHEN c.load_percent >= 80 THEN 'soon' ELSE 'none' END AS urgency,
  r.best_profile IS NOT NULL AND r.best_profile IS DISTINCT FROM c.profile
    AND (c.load_percent IS NULL OR r.best_headroom_percent > 100 - c.load_percent) AS switch,
  CASE WHEN r.best_profile IS NOT NULL THEN 'caam activate ' || vc_sh_word(r.provider) || ' ' || vc_sh_word(r.best_profile) END AS command
FROM ranked r LEFT JOIN cur c ON c.machine_id = r.machine_id AND c.provider = r.provider;
COMMENT ON VIEW v1.caam_recommendations IS 'Per machine and provider, derived from caam limits (caam has no recommend command): the profile in use and its load, the profile caam limits --best would name, the profile with the most headroom, the urgency --recommend would give (now >= 90 %, soon >= 80 %), whether switching helps, and the caam command that switches';

-- The accounts health factor (views/v1/30_health.sql adds it): account_limit, each running usage
-- window of an account in use, graded on its used %. Triage shows it with the accounts report
-- next, and, when caam data shows a profile of the same provider with more headroom that is
-- itself below the warn threshold, the caam command that switches to it.
CREATE VIEW v1.accounts_factors AS
WITH w AS (
  SELECT w.*, r.best_profile, r.best_headroom_percent, r.command,
    r.best_profile IS NOT NULL AND r.best_profile IS DISTINCT FROM w.profile
      AND 100 - r.best_headroom_percent < (SELECT warn FROM v1.health_thresholds WHERE factor_id = 'account_limit')
      AND r.best_headroom_percent > 100 - w.used_percent AS switch_ok
  FROM v1.account_windows w
  LEFT JOIN v1.caam_recommendations r ON r.machine_id = w.machine_id AND r.provider = w.provider
  WHERE w.in_use AND w.used_percent IS NOT NULL AND NOT w.is_reset
)
SELECT machine_id, 'account_limit' AS factor_id, format('{} {} {}', provider, account, "window") AS subject,
  round(used_percent, 1) AS value,
  format('{} account {} has used {}% of its {} window ({}, {} ago); {}; {}', provider, account, round(used_percent, 1),
    window_label, measured_by, human_age(greatest(epoch(vc_now() - measured_at), 0)),
    CASE WHEN resets_at IS NULL THEN 'its reset time is unknown'
      ELSE format('it resets at {} UTC (in {})', strftime(resets_at, '%Y-%m-%d %H:%M'), human_age(epoch(resets_at - vc_now()))) END,
    CASE WHEN time_to_limit_s = 0 THEN 'it is at its limit'
      WHEN time_to_limit_s IS NOT NULL THEN format('at {}% an hour it reaches the limit in {}', percent_per_hour, human_age(time_to_limit_s))
      WHEN resets_first THEN format('at {}% an hour it resets before reaching the limit', percent_per_hour)
      ELSE 'no rising trend in caut''s recent runs' END) AS summary,
  to_json({provider: provider, account: account, profile: profile, usage_window: "window", window_label: window_label,
    used_percent: used_percent, resets_at: resets_at, measured_at: measured_at, measured_by: measured_by,
    caut_used_percent: caut_used_percent, caam_used_percent: caam_used_percent, percent_per_hour: percent_per_hour,
    time_to_limit_s: time_to_limit_s, limit_at: limit_at,
    switch_to: CASE WHEN switch_ok THEN best_profile END,
    switch_to_headroom_percent: CASE WHEN switch_ok THEN best_headroom_percent END}) AS evidence,
  format('{}: {} {} {} window {}% used', machine_id, provider, account, window_label, round(used_percent, 1)) AS title,
  ['vc report accounts --md'] AS next,
  CASE WHEN switch_ok THEN command END AS fix
FROM w;
COMMENT ON VIEW v1.accounts_factors IS 'Health factor account_limit per machine: each running usage window of an account in use (caut''s live login or caam''s active profile), its used %, reset and time to limit; fix: the caam command that switches to the profile of the same provider with the most headroom, when that one is below the warn threshold';
