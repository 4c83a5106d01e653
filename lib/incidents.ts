// Incidents: open, note and close append to state/incidents.jsonl (append-only user state, as
// design.md asks); what an incident is and its timeline are SQL (views/v1/85_incidents.sql).
import { randomBytes } from 'node:crypto';
import type { LoadedConfig } from './config.ts';
import { MACHINE_ID } from './config.ts';
import type { Row } from './duck.ts';
import { UsageError } from './errors.ts';
import { incidentsFile } from './paths.ts';
import { appendToFile } from './store.ts';
import type { OpenSession } from './report.ts';


export const INCIDENT_ID = /^i[0-9a-f]{8}$/;

/** What `vc incident list --state` takes. */
export const INCIDENT_STATES = ['open', 'closed', 'all'] as const;

/** `vc incident list`: $1 a state of INCIDENT_STATES. */
export const INCIDENTS_LIST_SQL = `SELECT * FROM v1.incidents WHERE $1 = 'all' OR state = $1 ORDER BY opened_at DESC, incident_id`;

/** One incident: $1 its id. */
export const INCIDENT_SQL = 'SELECT * FROM v1.incidents WHERE incident_id = $1';

/** Its timeline: $1 its id. */
export const INCIDENT_TIMELINE_SQL = 'SELECT * FROM vc_incident_timeline($1)';

/**
 * Factors that changed between the snapshot before it began and the one at its end (or now), on
 * its machines: $1 started_at, $2 closed_at or NULL, $3 its machines as a JSON list (empty: all).
 */
export const INCIDENT_CHANGES_SQL = `SELECT * FROM vc_diff_factors($1::TIMESTAMP - INTERVAL 1 HOUR, coalesce($2::TIMESTAMP, vc_now()))
  WHERE json_array_length($3::JSON) = 0 OR list_contains(from_json($3::JSON, '["VARCHAR"]'), machine_id)
  ORDER BY machine_id, change, factor_id`;

const SEVERITIES = ['info', 'warn', 'crit'] as const;

/** Free text from the command line: one line or many, printable, bounded. */
function text(v: string, what: string, max: number): string {
  const t = v.trim();
  if (!t) throw new UsageError(`${what} is empty`);
  if (t.length > max) throw new UsageError(`${what} is longer than ${max} characters`);
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(t)) throw new UsageError(`${what} holds control characters`);
  return t;
}

async function incident(loaded: LoadedConfig, open: OpenSession, id: string): Promise<Row> {
  if (!INCIDENT_ID.test(id)) throw new UsageError(`"${id}" is not an incident id (like i1a2b3c4d: see vc incident list)`);
  const session = await open(loaded, { recent: [] });
  try {
    const [row] = await session.query(INCIDENT_SQL, [id]);
    if (!row) throw new UsageError(`no incident ${id} (see vc incident list)`);
    return row;
  } finally {
    session.close();
  }
}

export async function openIncident(loaded: LoadedConfig, opts: { title: string; severity?: string; machines: string[]; startedAt?: Date }, now = new Date()) {
  const severity = opts.severity ?? 'crit';
  if (!(SEVERITIES as readonly string[]).includes(severity)) throw new UsageError(`--severity "${severity}" is not one of: ${SEVERITIES.join(', ')}`);
  for (const m of opts.machines) if (!MACHINE_ID.test(m)) throw new UsageError(`--machine "${m}" is not a machine id`);
  if (opts.startedAt && opts.startedAt > now) throw new UsageError('--started is in the future');
  const line = {
    ts: now.toISOString(), incident_id: `i${randomBytes(4).toString('hex')}`, action: 'open', title: text(opts.title, 'the title', 200),
    severity, machines: [...new Set(opts.machines)], started_at: (opts.startedAt ?? now).toISOString(), note: null,
  };
  await appendToFile(incidentsFile(loaded.dataDir), [JSON.stringify(line)]);
  return line;
}

export async function noteIncident(loaded: LoadedConfig, open: OpenSession, id: string, note: string, now = new Date()) {
  const i = await incident(loaded, open, id);
  if (i.state === 'closed') throw new UsageError(`incident ${id} is closed (at ${String(i.closed_at)})`);
  const line = { ts: now.toISOString(), incident_id: id, action: 'note', title: null, severity: null, machines: null, started_at: null, note: text(note, 'the note', 4000) };
  await appendToFile(incidentsFile(loaded.dataDir), [JSON.stringify(line)]);
  return line;
}

export async function closeIncident(loaded: LoadedConfig, open: OpenSession, id: string, note: string | null, now = new Date()) {
  const i = await incident(loaded, open, id);
  if (i.state === 'closed') throw new UsageError(`incident ${id} is already closed (at ${String(i.closed_at)})`);
  const line = { ts: now.toISOString(), incident_id: id, action: 'close', title: null, severity: null, machines: null, started_at: null, note: note === null ? null : text(note, 'the note', 4000) };
  await appendToFile(incidentsFile(loaded.dataDir), [JSON.stringify(line)]);
  return line;
}

/** The incident and its timeline (and, for a replay, what changed between the snapshots around it). */
export async function incidentDetail(loaded: LoadedConfig, open: OpenSession, id: string, asOf?: Date): Promise<{ incident: Row; timeline: Row[]; changes: Row[] }> {
  if (!INCIDENT_ID.test(id)) throw new UsageError(`"${id}" is not an incident id (like i1a2b3c4d: see vc incident list)`);
  const session = await open(loaded, { now: asOf, recent: [] });
  try {
    const [incident] = await session.query(INCIDENT_SQL, [id]);
    if (!incident) throw new UsageError(`no incident ${id} (see vc incident list)`);
    const timeline = await session.query(INCIDENT_TIMELINE_SQL, [id]);
    const machines = incident.machines as string[];
    const changes = await session.query(INCIDENT_CHANGES_SQL,
      [String(incident.started_at), incident.closed_at === null ? null : String(incident.closed_at), JSON.stringify(machines)]);
    return { incident, timeline, changes };
  } finally {
    session.close();
  }
}
