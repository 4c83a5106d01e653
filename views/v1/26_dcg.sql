-- dcg: what the guard denied, by hour and by rule, and critical rules a machine hits for the
-- first time. The macros take a table of v1.dcg_events rows (the recent window here; a report's
-- span in reports/events.sql) and the start of the span.

-- Per machine and hour: commands judged, denied, warned, allowed (with a rule hit: allowlisted or
-- log-only matches, which ran), and the rule denied most (on a tie, the first by name).
CREATE MACRO vc_dcg_hourly(events, since) AS TABLE
WITH e AS (SELECT * FROM query_table(events) WHERE ts >= since AND ts <= vc_now()),
denied AS (
  SELECT machine_id, date_trunc('hour', ts) AS hour, rule_id, count(*) AS n
  FROM e WHERE outcome = 'deny' AND rule_id IS NOT NULL GROUP BY ALL
),
top AS (SELECT machine_id, hour, first(rule_id ORDER BY n DESC, rule_id) AS top_denied_rule FROM denied GROUP BY ALL)
SELECT e.machine_id, date_trunc('hour', e.ts) AS hour,
  count(*) AS commands,
  count(*) FILTER (WHERE outcome = 'deny') AS denies,
  count(*) FILTER (WHERE outcome = 'warn') AS warns,
  count(*) FILTER (WHERE outcome IN ('allow', 'bypass') AND rule_id IS NOT NULL) AS allowed_rule_hits,
  count(DISTINCT rule_id) FILTER (WHERE outcome = 'deny') AS denied_rules,
  any_value(t.top_denied_rule) AS top_denied_rule
FROM e LEFT JOIN top t ON t.machine_id = e.machine_id AND t.hour = date_trunc('hour', e.ts)
GROUP BY e.machine_id, date_trunc('hour', e.ts);

-- Per machine and rule: hits by outcome, when, where, and the first time the machine hit the rule
-- (the collector's memory of it, else the earliest hit here).
CREATE MACRO vc_dcg_rules(events, since) AS TABLE
SELECT machine_id, rule_id, any_value(pack_id) AS pack_id, any_value(pattern_name) AS pattern_name, any_value(severity) AS severity,
  count(*) AS hits,
  count(*) FILTER (WHERE outcome = 'deny') AS denies,
  count(*) FILTER (WHERE outcome = 'warn') AS warns,
  count(*) FILTER (WHERE outcome IN ('allow', 'bypass')) AS allowed,
  min(ts) AS first_at, max(ts) AS last_at, min(rule_first_seen_at) AS first_seen_at,
  list_sort(list_distinct(list(cwd) FILTER (WHERE cwd IS NOT NULL)))[1:5] AS cwds,
  count(DISTINCT session_id) AS sessions
FROM query_table(events)
WHERE rule_id IS NOT NULL AND ts >= since AND ts <= vc_now()
GROUP BY machine_id, rule_id;

-- Critical rules a machine hit for the first time at or after `since`.
CREATE MACRO vc_dcg_new_critical(events, since) AS TABLE
SELECT * FROM vc_dcg_rules(events, since)
WHERE severity = 'critical' AND first_seen_at >= since;

CREATE VIEW v1.dcg_denies_hourly AS FROM vc_dcg_hourly('v1.dcg_events', vc_recent_since());
COMMENT ON VIEW v1.dcg_denies_hourly IS 'dcg per machine and hour of the recent window: commands judged, denies, warns, rule hits that were allowed (allowlist or log mode), rules denied and the most denied one';

CREATE VIEW v1.dcg_top_rules AS
SELECT row_number() OVER (PARTITION BY machine_id ORDER BY denies DESC, hits DESC, rule_id) AS rank, *
FROM vc_dcg_rules('v1.dcg_events', vc_recent_since());
COMMENT ON VIEW v1.dcg_top_rules IS 'dcg rules hit per machine in the recent window, most denied first: severity, hits by outcome, first and last hit, cwds, sessions, and when the machine first hit the rule';

CREATE VIEW v1.dcg_new_critical_rules AS FROM vc_dcg_new_critical('v1.dcg_events', vc_recent_since());
COMMENT ON VIEW v1.dcg_new_critical_rules IS 'Critical dcg rules a machine hit for the first time in the recent window, with their hits by outcome and where';

-- The dcg health factors, in health_factors' shape (views/v1/30_health.sql adds them):
--   dcg_denies             commands denied in the last hour, on every machine where dcg was read;
--   dcg_new_critical_rule  a critical rule the machine had not hit before the recent window.
-- Rule ids go into a `vc query` only when they are plain words (see vc_query_cmd).
CREATE VIEW v1.dcg_factors AS
WITH dcg_machines AS (
  SELECT DISTINCT machine_id FROM collector_runs_recent WHERE source = 'dcg' AND status = 'ok'
  UNION SELECT DISTINCT machine_id FROM v1.dcg_events
),
hour_rules AS (
  SELECT machine_id, rule_id, count(*) AS denies FROM v1.dcg_events
  WHERE outcome = 'deny' AND ts > vc_now() - INTERVAL 1 HOUR AND ts <= vc_now()
  GROUP BY ALL
),
last_hour AS (
  SELECT machine_id, sum(denies) AS denies,
    list({rule_id: rule_id, denies: denies} ORDER BY denies DESC, rule_id NULLS LAST)[1:5] AS top_rules
  FROM hour_rules GROUP BY machine_id
),
denies AS (
  SELECT m.machine_id, 'dcg_denies' AS factor_id, coalesce(l.denies, 0) AS value,
    format('dcg denied {} commands in the last hour{}', coalesce(l.denies, 0),
      CASE WHEN l.denies > 0 THEN ', most: ' || array_to_string(list_transform(l.top_rules, r -> format('{} ({})', coalesce(r.rule_id, 'no rule'), r.denies)), ', ') ELSE '' END) AS summary,
    to_json({denies: coalesce(l.denies, 0), top_rules: coalesce(l.top_rules, []), since: vc_now() - INTERVAL 1 HOUR}) AS evidence,
    format('{}: dcg denied {} commands in the last hour', m.machine_id, coalesce(l.denies, 0)) AS title,
    [format('vc report events --machine {} --md', m.machine_id)] AS next
  FROM dcg_machines m LEFT JOIN last_hour l USING (machine_id)
),
new_critical AS (
  SELECT machine_id, 'dcg_new_critical_rule' AS factor_id, rule_id AS subject, hits AS value,
    format('critical dcg rule {} first hit on this machine {} ago: {} denied, {} allowed, in {}', rule_id,
      human_age(seconds_between(first_seen_at, vc_now())), denies, allowed, array_to_string(cwds, ', ')) AS summary,
    to_json({rule_id: rule_id, pack_id: pack_id, pattern_name: pattern_name, severity: severity, hits: hits, denies: denies,
      warns: warns, allowed: allowed, first_seen_at: first_seen_at, last_at: last_at, cwds: cwds, sessions: sessions}) AS evidence,
    format('{}: new critical dcg rule {} ({} hits)', machine_id, rule_id, hits) AS title,
    [format('vc report events --machine {} --md', machine_id)]
      || CASE WHEN regexp_full_match(rule_id, '[A-Za-z0-9_.:-]+') THEN
        [vc_query_cmd(machine_id, 'ts, outcome, origin, cwd, session_id, short_code', 'dcg_events', format(' AND rule_id = ''{}'' ORDER BY ts DESC', rule_id))]
        ELSE [] END AS next
  FROM v1.dcg_new_critical_rules
)
FROM denies UNION ALL BY NAME FROM new_critical;
COMMENT ON VIEW v1.dcg_factors IS 'dcg health factors per machine: dcg_denies (commands denied in the last hour) and dcg_new_critical_rule (a critical rule first hit in the recent window), with triage title and next commands';
