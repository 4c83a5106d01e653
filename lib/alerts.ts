// Alerts: evaluating the rules (views/v1/60_alerts.sql says what changes), appending each
// transition to state/alerts.jsonl, acknowledging, and delivering transitions to a webhook. The
// state is append-only (design.md: persistent user state is NDJSON): an alert's state is the fold
// of its lines, so nothing is ever rewritten, and --as-of sees the alerts as they were.
import fs from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from './config.ts';
import type { Row } from './duck.ts';
import { HEALTH_HISTORY, healthSession, type HealthSession, type OpenSession } from './report.ts';
import { lockExclusive } from './flock.ts';
import { alertDeliveriesFile, alertsFile, stateDir } from './paths.ts';
import { appendToFile } from './store.ts';
import { errorMessage, UsageError } from './errors.ts';

export const ALERT_ID = /^a[0-9a-f]{10}$/;

/** What `vc alerts list --state` takes: active is open and acked. */
export const ALERT_STATES = ['active', 'open', 'acked', 'resolved', 'all'] as const;

/** `vc alerts list`: $1 a state of ALERT_STATES, $2 a machine id or NULL. */
export const ALERTS_LIST_SQL = `SELECT * FROM v1.alerts
  WHERE ($1 = 'all' OR ($1 = 'active' AND state <> 'resolved') OR state = $1) AND ($2::VARCHAR IS NULL OR machine_id = $2)
  ORDER BY state = 'resolved', severity_rank(severity) DESC, opened_at DESC, alert_id`;

/** `vc alerts rules`: each rule with the thresholds of its factor. */
export const ALERT_RULES_SQL = `SELECT r.rule_id, r.factor_id, r.min_severity, r.cooldown_minutes, r.description, t.warn, t.crit, t.unit
  FROM v1.alert_rules r LEFT JOIN v1.health_thresholds t USING (factor_id) ORDER BY r.rule_id`;
/** Evaluations wait this long for another one to finish before giving up. */
const LOCK_WAIT_SECONDS = 120;

export interface Transition {
  ts: string;
  alert_id: string;
  transition: 'open' | 'update' | 'resolve' | 'reopen' | 'ack';
  rule_id: string;
  machine_id: string;
  subject: string;
  severity: string | null;
  title: string | null;
  summary: string | null;
  evidence: unknown;
  next: string[] | null;
  fix: string | null;
  note: string | null;
}

export interface EvaluateResult {
  transitions: Transition[];
  deliveries: { attempted: number; delivered: number; failed: number; left: number };
}


/** Holds the alerts' lock for `fn`: one evaluation or ack at a time, so no transition is written twice. */
async function withAlertsLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(stateDir(dataDir), { recursive: true });
  const fd = fs.openSync(path.join(stateDir(dataDir), 'alerts.lock'), 'a');
  try {
    await lockExclusive(fd, 'the alerts (another vc alerts evaluate is running)', LOCK_WAIT_SECONDS);
    return await fn();
  } finally {
    fs.closeSync(fd);
  }
}

function transitionOf(r: Row, ts: string, note: string | null = null): Transition {
  const evidence = typeof r.evidence === 'string' ? safeJson(r.evidence) : r.evidence ?? null;
  return {
    ts, alert_id: String(r.alert_id), transition: r.transition as Transition['transition'], rule_id: String(r.rule_id),
    machine_id: String(r.machine_id), subject: String(r.subject ?? ''), severity: (r.severity as string | null) ?? null,
    title: (r.title as string | null) ?? null, summary: (r.summary as string | null) ?? null, evidence,
    next: Array.isArray(r.next) ? r.next.map(String) : null, fix: (r.fix as string | null) ?? null, note,
  };
}

const safeJson = (s: string): unknown => {
  try { return JSON.parse(s); } catch { return s; }
};

/**
 * Evaluates the alert rules against the data now, appends what changed, then delivers what is
 * due to the webhook (if one is configured). Two evaluations never interleave. `health`: a session
 * at `now` that other steps share (else one of its own); it is opened under the lock, so an
 * evaluation waiting for another reads the transitions that one wrote.
 */
export async function evaluateAlerts(loaded: LoadedConfig, open: OpenSession, now = new Date(), health?: HealthSession): Promise<EvaluateResult> {
  const own = health ?? healthSession(() => open(loaded, { now, history: HEALTH_HISTORY }));
  let transitions: Transition[];
  try {
    transitions = await withAlertsLock(loaded.dataDir, async () => {
      const session = await own.get();
      const due = await session.query('SELECT * FROM v1.alert_due ORDER BY machine_id, rule_id, subject');
      const ts = now.toISOString();
      const out = due.map((r) => transitionOf(r, ts));
      await appendToFile(alertsFile(loaded.dataDir), out.map((t) => JSON.stringify(t)));
      fs.writeFileSync(evaluatedMarker(loaded.dataDir), `${ts}\n`);
      return out;
    });
  } finally {
    if (!health) await own.close();
  }
  const deliveries = await deliverAlerts(loaded, open, now);
  return { transitions, deliveries };
}

const evaluatedMarker = (dataDir: string) => path.join(stateDir(dataDir), 'alerts-evaluated');

/**
 * Whether an evaluation is due: the last one (its marker's mtime) is at least the configured
 * interval old, less a little slack so that a minutely cron does not slip a whole minute.
 */
export function evaluationDue(loaded: LoadedConfig, now = new Date()): boolean {
  try {
    const last = fs.statSync(evaluatedMarker(loaded.dataDir)).mtimeMs;
    return now.getTime() - last >= (loaded.config.alerts.evaluate_every_seconds - 20) * 1000;
  } catch {
    return true;
  }
}

/** Acknowledges an open alert; says why not for one that is unknown or resolved. */
export async function ackAlert(loaded: LoadedConfig, open: OpenSession, id: string, note: string | null, now = new Date()): Promise<Transition> {
  if (!ALERT_ID.test(id)) throw new UsageError(`"${id}" is not an alert id (like a1b2c3d4e5f: see vc alerts list)`);
  if (note !== null && (note.length > 2000 || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(note))) {
    throw new UsageError('--note must be at most 2000 characters of text');
  }
  return withAlertsLock(loaded.dataDir, async () => {
    const session = await open(loaded, { now, recent: [] });
    let rows: Row[];
    try {
      rows = await session.query('SELECT * FROM v1.alerts WHERE alert_id = $1', [id]);
    } finally {
      session.close();
    }
    const alert = rows[0];
    if (!alert) throw new UsageError(`no alert ${id} (see vc alerts list --state all)`);
    if (alert.state === 'resolved') throw new UsageError(`alert ${id} is resolved (at ${String(alert.resolved_at)}): nothing to acknowledge`);
    const t = transitionOf({ ...alert, transition: 'ack' }, now.toISOString(), note);
    await appendToFile(alertsFile(loaded.dataDir), [JSON.stringify(t)]);
    return t;
  });
}

/**
 * POSTs the transitions whose delivery is due (v1.alert_deliveries_due: new, or failed and past
 * their backoff) to the configured webhook, each attempt appended to state/alert-deliveries.jsonl.
 * Bounded by the delivery budget: what is left waits for the next evaluation.
 */
export async function deliverAlerts(loaded: LoadedConfig, open: OpenSession, now = new Date()): Promise<EvaluateResult['deliveries']> {
  const cfg = loaded.config.alerts;
  const result = { attempted: 0, delivered: 0, failed: 0, left: 0 };
  if (!cfg.webhook_url) return result;
  const session = await open(loaded, { now, recent: [] });
  let due: Row[];
  try {
    due = await session.query('SELECT * EXCLUDE (attempts), attempts FROM v1.alert_deliveries_due');
  } finally {
    session.close();
  }
  const deadline = Date.now() + cfg.delivery_budget_seconds * 1000;
  for (const r of due) {
    if (Date.now() >= deadline) {
      result.left = due.length - result.attempted;
      break;
    }
    const t = transitionOf(r, toIso(r.ts));
    const attempt = Number(r.attempts) + 1;
    const outcome = await post(cfg.webhook_url, { schema_version: 'vc.alert.v1', ...t }, cfg.webhook_timeout_seconds * 1000);
    result.attempted++;
    if (outcome.ok) result.delivered++;
    else result.failed++;
    await appendToFile(alertDeliveriesFile(loaded.dataDir), [JSON.stringify({
      ts: new Date().toISOString(), alert_id: t.alert_id, transition: t.transition, transition_ts: t.ts, attempt, ...outcome,
    })]);
  }
  return result;
}

const toIso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

async function post(url: string, body: unknown, timeoutMs: number): Promise<{ ok: boolean; status: number | null; error: string | null }> {
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'vc-alerts' },
      body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
    });
    await res.body?.cancel();
    return res.ok ? { ok: true, status: res.status, error: null } : { ok: false, status: res.status, error: `HTTP ${res.status} ${res.statusText}`.trim() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : e.cause?.code ?? e.cause?.message ?? errorMessage(err);
    return { ok: false, status: null, error: why };
  }
}
