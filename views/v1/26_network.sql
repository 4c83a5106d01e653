-- network: which hosts the agents talk to (new ones not on the known list first) and connection
-- spikes against each machine's own usual hour, from rano's connect and close rows. The macros take
-- a table of v1.rano_events rows (the recent window here; a report's span in reports/events.sql).

-- Domains coding agents are expected to reach: their providers' APIs, code hosting, package
-- registries. A host matches an entry equal to it or ending in "." and the entry.
CREATE VIEW v1.network_known_domains AS
SELECT * FROM (VALUES
  ('anthropic.com', 'Anthropic API'),
  ('claude.ai', 'Claude'),
  ('claude.com', 'Claude'),
  ('openai.com', 'OpenAI API'),
  ('chatgpt.com', 'ChatGPT and Codex'),
  ('googleapis.com', 'Google APIs (Gemini)'),
  ('google.com', 'Google'),
  ('1e100.net', 'Google (reverse DNS of its addresses)'),
  ('github.com', 'GitHub'),
  ('githubusercontent.com', 'GitHub content'),
  ('npmjs.org', 'npm registry'),
  ('pypi.org', 'Python packages'),
  ('pythonhosted.org', 'Python packages'),
  ('crates.io', 'Rust crates')
) t(suffix, what);
COMMENT ON VIEW v1.network_known_domains IS 'Domains coding agents are expected to reach (a host equal to one or under it is known): provider APIs, code hosting, package registries';

-- A remote address on the machine's own networks: rano's remote_is_private, or (stores without
-- that column) loopback, RFC 1918 and IPv6 unique-local addresses by their text.
CREATE MACRO vc_local_address(ip, is_private) AS
  coalesce(is_private, false) OR regexp_matches(coalesce(ip, ''), '^(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|::1$|f[cd][0-9a-f]{2}:)');

-- Per machine and remote host (the domain, else the IP) since `since`: connects and closes, which
-- agents, addresses and ports, alerts, and when the machine's store first saw the host.
CREATE MACRO vc_network_hosts(events, since) AS TABLE
WITH e AS (SELECT * FROM query_table(events) WHERE ts >= since AND ts <= vc_now()),
hosts AS (
  SELECT machine_id, host, bool_or(resolved) AS resolved,
    count(*) FILTER (WHERE "event" = 'connect') AS connects,
    count(*) FILTER (WHERE "event" = 'close') AS closes,
    min(ts) AS first_at, max(ts) AS last_at, min(host_first_seen_at) AS first_seen_at,
    list_sort(list_distinct(list(provider) FILTER (WHERE provider IS NOT NULL))) AS providers,
    list_sort(list_distinct(list(comm) FILTER (WHERE comm IS NOT NULL))) AS processes,
    list_sort(list_distinct(list(remote_ip) FILTER (WHERE remote_ip IS NOT NULL)))[1:5] AS remote_ips,
    list_sort(list_distinct(list(remote_port) FILTER (WHERE remote_port IS NOT NULL))) AS remote_ports,
    bool_and(vc_local_address(remote_ip, remote_is_private)) AS local_network,
    count(*) FILTER (WHERE alert) AS alerts
  FROM e GROUP BY machine_id, host
)
SELECT h.*, h.first_seen_at >= since AS is_new,
  EXISTS (SELECT 1 FROM v1.network_known_domains k WHERE h.resolved AND (h.host = k.suffix OR ends_with(h.host, '.' || k.suffix))) AS known
FROM hosts h;

-- Per machine, provider and hour: connections opened and closed, hosts, alerts.
CREATE MACRO vc_network_hourly(events, since) AS TABLE
SELECT machine_id, provider, date_trunc('hour', ts) AS hour,
  count(*) FILTER (WHERE "event" = 'connect') AS connects,
  count(*) FILTER (WHERE "event" = 'close') AS closes,
  count(DISTINCT host) AS hosts,
  count(*) FILTER (WHERE alert) AS alerts
FROM query_table(events)
WHERE ts >= since AND ts <= vc_now()
GROUP BY machine_id, provider, date_trunc('hour', ts);

CREATE VIEW v1.network_hosts AS FROM vc_network_hosts('v1.rano_events', vc_recent_since());
COMMENT ON VIEW v1.network_hosts IS 'Per machine and remote host (domain, else IP) in the recent window: connects, closes, agents (providers, processes), addresses, ports, alerts, when the store first saw it, whether that was in the window (is_new), whether it is on the known list or on a local network';

CREATE VIEW v1.network_unknown_domains AS
SELECT * FROM v1.network_hosts WHERE is_new AND NOT known AND NOT local_network;
COMMENT ON VIEW v1.network_unknown_domains IS 'Hosts the agents of a machine contacted for the first time in the recent window (by the store''s own history) that are neither on the known list nor on a local network';

CREATE VIEW v1.network_hourly AS FROM vc_network_hourly('v1.rano_events', vc_recent_since());
COMMENT ON VIEW v1.network_hourly IS 'Connections per machine, provider and hour of the recent window: opened, closed, distinct hosts, alerts';

-- The last hour's connections against the machine's usual hour (the median of the window's
-- earlier hours with connections, per provider): needs 3 such hours to compare with.
CREATE VIEW v1.network_spikes AS
WITH e AS (SELECT * FROM v1.rano_events WHERE "event" = 'connect' AND ts > vc_recent_since() AND ts <= vc_now()),
hourly AS (
  SELECT machine_id, provider, date_trunc('hour', ts) AS hour, count(*) AS connects
  FROM e WHERE ts <= vc_now() - INTERVAL 1 HOUR GROUP BY ALL
),
base AS (SELECT machine_id, provider, median(connects) AS typical, count(*) AS hours FROM hourly GROUP BY ALL),
last_hour AS (
  SELECT machine_id, provider, count(*) AS connects, count(DISTINCT host) AS hosts
  FROM e WHERE ts > vc_now() - INTERVAL 1 HOUR GROUP BY ALL
)
SELECT l.machine_id, l.provider, l.connects AS last_hour_connects, l.hosts AS last_hour_hosts,
  b.typical AS typical_hour_connects, b.hours AS hours_compared, round(l.connects / b.typical, 1) AS ratio
FROM last_hour l JOIN base b USING (machine_id, provider)
WHERE b.hours >= 3;
COMMENT ON VIEW v1.network_spikes IS 'Per machine and provider: connections opened in the last hour against the median of the recent window''s earlier hours (3 hours at least), and the ratio';

-- The network health factors, in health_factors' shape (views/v1/30_health.sql adds them):
--   network_unknown_domains  hosts first contacted in the recent window, not known, not local
--                            (one per machine where rano was read);
--   network_spike            a provider's connections in the last hour as a multiple of its usual
--                            hour, from 30 connections an hour (below that a jump is noise).
CREATE VIEW v1.network_factors AS
WITH rano_machines AS (
  SELECT DISTINCT machine_id FROM collector_runs_recent WHERE source = 'rano' AND status = 'ok'
  UNION SELECT DISTINCT machine_id FROM v1.rano_events
),
unknown AS (
  SELECT machine_id, count(*) AS hosts,
    list({host: host, connects: connects, processes: processes, providers: providers, remote_ips: remote_ips,
      first_seen_at: first_seen_at, alerts: alerts} ORDER BY connects DESC, host)[1:10] AS top
  FROM v1.network_unknown_domains GROUP BY machine_id
),
unknown_rows AS (
  SELECT m.machine_id, 'network_unknown_domains' AS factor_id, coalesce(u.hosts, 0) AS value,
    CASE WHEN u.hosts > 0
      THEN format('agents contacted {} hosts for the first time in the last {} h that are not on the known list: {}', u.hosts,
        getvariable('vc_recent_hours'), array_to_string(list_transform(u.top[1:5], h -> format('{} ({} by {})', h.host, h.connects, array_to_string(h.processes, '/'))), ', '))
      ELSE format('no new unknown hosts in the last {} h', getvariable('vc_recent_hours')) END AS summary,
    to_json({hosts: coalesce(u.hosts, 0), top: coalesce(u.top, []), since: vc_recent_since()}) AS evidence,
    format('{}: agents contacted {} unknown hosts', m.machine_id, coalesce(u.hosts, 0)) AS title,
    [format('vc report events --machine {} --md', m.machine_id),
      vc_query_cmd(m.machine_id, 'host, connects, processes, providers, remote_ips, first_seen_at', 'network_unknown_domains', ' ORDER BY connects DESC')] AS next
  FROM rano_machines m LEFT JOIN unknown u USING (machine_id)
),
spike_rows AS (
  SELECT machine_id, 'network_spike' AS factor_id, provider AS subject, ratio AS value,
    format('{} agents opened {} connections in the last hour to {} hosts, {}x their usual {} an hour', provider, last_hour_connects,
      last_hour_hosts, ratio, typical_hour_connects) AS summary,
    to_json({provider: provider, last_hour_connects: last_hour_connects, last_hour_hosts: last_hour_hosts,
      typical_hour_connects: typical_hour_connects, hours_compared: hours_compared}) AS evidence,
    format('{}: {} agents opened {}x their usual connections', machine_id, provider, ratio) AS title,
    [format('vc report events --machine {} --md', machine_id),
      vc_query_cmd(machine_id, 'provider, hour, connects, closes, hosts, alerts', 'network_hourly', ' ORDER BY hour DESC, connects DESC')] AS next
  FROM v1.network_spikes
  WHERE last_hour_connects >= 30
)
FROM unknown_rows UNION ALL BY NAME FROM spike_rows;
COMMENT ON VIEW v1.network_factors IS 'Network health factors per machine: network_unknown_domains (hosts first contacted in the recent window, not known, not local) and network_spike (a provider''s connections in the last hour against its usual hour), with triage title and next commands';
