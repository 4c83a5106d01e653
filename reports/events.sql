-- Events of dcg (commands judged) and rano (agents' connections) over the chosen span: --since
-- (default the last 24 hours) to --until (default now), optionally one machine (--machine).
-- Variables: vc_report_since, vc_report_until, vc_report_machine.

-- name: span setup
-- The span's stored rows (day = the day collected, never before the event: older days are not
-- read), then each source's events once, within the span.
CREATE OR REPLACE TEMP TABLE events_span AS
SELECT coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 24 HOUR) AS since,
  least(coalesce(getvariable('vc_report_until'), vc_now()), vc_now()) AS "until",
  getvariable('vc_report_machine') AS machine;
CREATE OR REPLACE TEMP TABLE dcg_span_rows AS
SELECT * FROM dcg WHERE day >= coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 24 HOUR)::DATE
  AND (getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine'));
CREATE OR REPLACE TEMP TABLE dcg_span AS
SELECT e.* FROM vc_dcg_events('dcg_span_rows') e, events_span s WHERE e.ts >= s.since AND e.ts < s."until";
CREATE OR REPLACE TEMP TABLE rano_span_rows AS
SELECT * FROM rano WHERE day >= coalesce(getvariable('vc_report_since'), vc_now() - INTERVAL 24 HOUR)::DATE
  AND (getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine'));
CREATE OR REPLACE TEMP TABLE rano_span AS
SELECT e.* FROM vc_rano_events('rano_span_rows') e, events_span s WHERE e.ts >= s.since AND e.ts < s."until";

-- name: span one
SELECT since, "until", machine FROM events_span;

-- name: dcg_totals one
SELECT count(*) AS commands,
  count(*) FILTER (WHERE outcome = 'deny') AS denies,
  count(*) FILTER (WHERE outcome = 'warn') AS warns,
  count(*) FILTER (WHERE outcome IN ('allow', 'bypass') AND rule_id IS NOT NULL) AS allowed_rule_hits,
  count(*) FILTER (WHERE outcome = 'deny' AND severity = 'critical') AS critical_denies,
  count(DISTINCT machine_id) AS machines, count(DISTINCT rule_id) AS rules,
  min(ts) AS first_at, max(ts) AS last_at
FROM dcg_span;

-- name: dcg_machines
SELECT machine_id, count(*) AS commands,
  count(*) FILTER (WHERE outcome = 'deny') AS denies,
  count(*) FILTER (WHERE outcome = 'warn') AS warns,
  count(*) FILTER (WHERE outcome IN ('allow', 'bypass') AND rule_id IS NOT NULL) AS allowed_rule_hits,
  count(*) FILTER (WHERE outcome = 'deny' AND severity = 'critical') AS critical_denies,
  -- Without dcg's history only denies are known (from pending_exceptions.jsonl).
  bool_or(origin = 'history') AS has_history,
  max(ts) FILTER (WHERE outcome = 'deny') AS last_deny_at
FROM dcg_span GROUP BY machine_id
ORDER BY denies DESC, machine_id;

-- name: dcg_hourly
SELECT hour, sum(commands) AS commands, sum(denies) AS denies, sum(warns) AS warns,
  sum(allowed_rule_hits) AS allowed_rule_hits, count(*) FILTER (WHERE denies > 0) AS machines_with_denies
FROM vc_dcg_hourly('dcg_span', (SELECT since FROM events_span))
GROUP BY hour ORDER BY hour;

-- name: dcg_top_rules
SELECT rule_id, any_value(severity) AS severity, sum(hits) AS hits, sum(denies) AS denies, sum(warns) AS warns,
  sum(allowed) AS allowed, count(*) AS machines, min(first_at) AS first_at, max(last_at) AS last_at
FROM vc_dcg_rules('dcg_span', (SELECT since FROM events_span))
GROUP BY rule_id
ORDER BY denies DESC, hits DESC, rule_id
LIMIT 20;

-- name: dcg_new_critical
SELECT machine_id, rule_id, hits, denies, allowed, first_seen_at, last_at, cwds
FROM vc_dcg_new_critical('dcg_span', (SELECT since FROM events_span))
ORDER BY first_seen_at DESC, machine_id, rule_id;

-- name: dcg_recent_denies
SELECT ts, machine_id, rule_id, severity, origin, cwd, reason, short_code, consumed_at, command_hash
FROM dcg_span WHERE outcome = 'deny'
ORDER BY ts DESC, machine_id
LIMIT 20;

-- name: network_totals one
SELECT count(*) FILTER (WHERE "event" = 'connect') AS connects,
  count(*) FILTER (WHERE "event" = 'close') AS closes,
  count(DISTINCT machine_id || ' ' || host) AS hosts,
  count(DISTINCT machine_id) AS machines,
  count(*) FILTER (WHERE alert) AS alerts,
  (SELECT count(*) FROM vc_network_hosts('rano_span', (SELECT since FROM events_span)) WHERE is_new AND NOT known AND NOT local_network) AS unknown_hosts,
  min(ts) AS first_at, max(ts) AS last_at
FROM rano_span;

-- name: network_unknown
SELECT machine_id, host, connects, providers, processes, remote_ips, remote_ports, first_seen_at, alerts
FROM vc_network_hosts('rano_span', (SELECT since FROM events_span))
WHERE is_new AND NOT known AND NOT local_network
ORDER BY connects DESC, machine_id, host
LIMIT 50;

-- name: network_top_hosts
SELECT host, sum(connects) AS connects, count(*) AS machines, list_sort(list_distinct(flatten(list(providers)))) AS providers,
  bool_or(known) AS known, bool_or(resolved) AS resolved, min(first_seen_at) AS first_seen_at
FROM vc_network_hosts('rano_span', (SELECT since FROM events_span))
GROUP BY host
ORDER BY connects DESC, host
LIMIT 20;

-- name: network_spikes
SELECT * FROM v1.network_spikes
WHERE getvariable('vc_report_machine') IS NULL OR machine_id = getvariable('vc_report_machine')
ORDER BY ratio DESC, machine_id, provider;
