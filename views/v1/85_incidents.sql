-- Incidents: what a person opens when something is on fire (vc incident open), notes as it goes
-- and closes. Its lines are state/incidents.jsonl; its timeline is assembled here from what vc
-- already knows about the window: the incident's own notes, alert transitions, failed collector
-- runs and machine health changes between snapshots, on its machines (all, when it names none).

CREATE VIEW incident_log AS
SELECT * FROM read_json(getvariable('vc_incidents_file'), format = 'newline_delimited', ignore_errors = true,
  columns = {ts: 'TIMESTAMP', incident_id: 'VARCHAR', "action": 'VARCHAR', title: 'VARCHAR', severity: 'VARCHAR',
    machines: 'VARCHAR[]', started_at: 'TIMESTAMP', note: 'VARCHAR'})
WHERE ts IS NOT NULL AND ts <= vc_now() AND incident_id IS NOT NULL AND "action" IN ('open', 'note', 'close');
COMMENT ON VIEW incident_log IS 'Every incident action (state/incidents.jsonl) up to now: ts, incident_id, action (open, note, close), title, severity, machines, started_at, note';

CREATE VIEW v1.incidents AS
WITH per AS (
  SELECT incident_id,
    arg_min(title, ts) FILTER (WHERE "action" = 'open') AS title,
    arg_min(severity, ts) FILTER (WHERE "action" = 'open') AS severity,
    arg_min(machines, ts) FILTER (WHERE "action" = 'open') AS machines,
    min(coalesce(started_at, ts)) FILTER (WHERE "action" = 'open') AS started_at,
    min(ts) FILTER (WHERE "action" = 'open') AS opened_at,
    max(ts) FILTER (WHERE "action" = 'close') AS closed_at,
    count(*) FILTER (WHERE "action" = 'note' OR ("action" = 'close' AND note IS NOT NULL)) AS notes
  FROM incident_log GROUP BY incident_id
)
SELECT incident_id, CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END AS state, title, severity,
  coalesce(machines, []) AS machines, started_at, opened_at, closed_at,
  coalesce(closed_at, vc_now()) - started_at AS duration, notes
FROM per WHERE opened_at IS NOT NULL;
COMMENT ON VIEW v1.incidents IS 'Every incident as of now: state (open, closed), title, severity, machines (empty: the fleet), started, opened and closed times, duration so far, number of notes';

-- The timeline of one incident: from an hour before it started to its close (or now).
CREATE MACRO vc_incident_timeline(id) AS TABLE
WITH i AS (FROM v1.incidents WHERE incident_id = id),
w AS (SELECT started_at - INTERVAL 1 HOUR AS t0, coalesce(closed_at, vc_now()) AS t1, machines FROM i),
mine AS (SELECT unnest(machines) AS m FROM w)
SELECT l.ts, 'incident' AS kind, NULL::VARCHAR AS machine_id, l."action" AS what,
  CASE l."action" WHEN 'open' THEN l.title ELSE l.note END AS detail
FROM incident_log l WHERE l.incident_id = id
UNION ALL
SELECT a.ts, 'alert', a.machine_id, a."transition", coalesce(a.title, a.rule_id) || CASE WHEN a.note IS NOT NULL THEN ' (' || a.note || ')' ELSE '' END
FROM alert_log a, w
WHERE a.ts BETWEEN w.t0 AND w.t1 AND a."transition" <> 'update'
  AND (len(w.machines) = 0 OR a.machine_id IN (SELECT m FROM mine))
UNION ALL
SELECT r.ended_at, 'collector', r.machine_id, r.status, r.source || ': ' || coalesce(r.error, r.status)
FROM collector_runs r, w
WHERE r.day BETWEEN w.t0::DATE AND w.t1::DATE AND r.ended_at BETWEEN w.t0 AND w.t1
  AND r.status NOT IN ('ok', 'absent') AND (len(w.machines) = 0 OR r.machine_id IN (SELECT m FROM mine))
UNION ALL
SELECT s.ts, 'health', s.machine_id, s.severity, format('{} -> {} (worst: {})', s.before, s.severity, coalesce(s.worst_factor, 'none'))
FROM (
  SELECT ts, machine_id, severity, worst_factor, lag(severity) OVER (PARTITION BY machine_id ORDER BY ts) AS before
  FROM snapshot_log
) s, w
WHERE s.ts BETWEEN w.t0 AND w.t1 AND s.before IS NOT NULL AND s.before <> s.severity
  AND (len(w.machines) = 0 OR s.machine_id IN (SELECT m FROM mine))
ORDER BY 1, 2, 3;
