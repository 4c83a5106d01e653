// Incidents: given stored lines (incidents, alerts, snapshots, collector runs), the expected
// incident and timeline (SQL); and the CLI end to end with bad input refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { runEnvelope } from '../lib/collector.ts';
import { alertsFile, incidentsFile, snapshotsFile } from '../lib/paths.ts';
import { tmpDir, vc } from './helpers.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const jsonl = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('incidents in SQL: given lines, expected incident and timeline', () => {
  test('the fold, and a timeline of notes, alerts, failed runs and health changes on its machines in its window', async (t) => {
    const dir = tmpDir('vc-incident-sql-');
    fs.mkdirSync(path.join(dir, 'state'));
    fs.writeFileSync(incidentsFile(dir), jsonl([
      { ts: '2026-11-24T09:05:00Z', incident_id: 'i00000001', action: 'open', title: 'db host swapping', severity: 'crit', machines: ['db'], started_at: '2026-11-24T09:00:00Z' },
      { ts: '2026-11-24T09:30:00Z', incident_id: 'i00000001', action: 'note', note: 'killed the runaway import' },
      { ts: '2026-11-24T10:00:00Z', incident_id: 'i00000001', action: 'close', note: 'memory back to normal' },
      { ts: '2026-11-24T11:00:00Z', incident_id: 'i00000002', action: 'open', title: 'fleet slow', severity: 'warn', machines: [], started_at: '2026-11-24T11:00:00Z' },
      { ts: '2026-11-24T11:10:00Z', incident_id: 'i00000009', action: 'note', note: 'a note without its incident' },
    ]));
    fs.writeFileSync(alertsFile(dir), jsonl([
      { ts: '2026-11-24T08:30:00Z', alert_id: 'a0000000001', transition: 'open', rule_id: 'memory_low', machine_id: 'db', subject: '', title: 'db: memory low' },
      { ts: '2026-11-24T09:10:00Z', alert_id: 'a0000000001', transition: 'update', rule_id: 'memory_low', machine_id: 'db', subject: '', title: 'db: memory low' },
      { ts: '2026-11-24T09:50:00Z', alert_id: 'a0000000001', transition: 'resolve', rule_id: 'memory_low', machine_id: 'db', subject: '', title: 'db: memory low' },
      { ts: '2026-11-24T09:20:00Z', alert_id: 'a0000000002', transition: 'open', rule_id: 'disk_full', machine_id: 'web', subject: '/', title: 'web: disk full' },
      { ts: '2026-11-24T07:00:00Z', alert_id: 'a0000000003', transition: 'open', rule_id: 'load_high', machine_id: 'db', subject: '', title: 'before the window' },
    ]));
    fs.writeFileSync(snapshotsFile(dir), jsonl([
      { ts: '2026-11-24T08:00:00Z', machine_id: 'db', severity: 'ok', factors: [], alerts: [] },
      { ts: '2026-11-24T09:00:00Z', machine_id: 'db', severity: 'crit', worst_factor: 'memory', factors: [{ factor_id: 'memory', subject: null, severity: 'crit', value: 3, summary: '3% available' }], alerts: [] },
      { ts: '2026-11-24T10:00:00Z', machine_id: 'db', severity: 'ok', factors: [], alerts: [] },
    ]));
    const run = (machine: string, at: string, status: 'ok' | 'error', id: string) => runEnvelope(machine, id, {
      source: 'sys', started_at: at, ended_at: at, duration_ms: 1, bytes: 0, rows: 0, status, error: status === 'error' ? 'ssh: connect timed out' : null, warnings: [], cursor: null,
    });
    await appendEnvelopes(dir, [run('db', '2026-11-24T09:40:00.000Z', 'error', 'r1'), run('db', '2026-11-24T09:42:00.000Z', 'ok', 'r2'), run('web', '2026-11-24T09:41:00.000Z', 'error', 'r3')]);
    const s = await openSession({ dataDir: dir, now: NOW, recent: [] });
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT incident_id, state, title, severity, machines, started_at, closed_at, duration, notes FROM v1.incidents ORDER BY incident_id'), [
      { incident_id: 'i00000001', state: 'closed', title: 'db host swapping', severity: 'crit', machines: ['db'], started_at: '2026-11-24T09:00:00.000Z', closed_at: '2026-11-24T10:00:00.000Z', duration: 3600, notes: 2 },
      { incident_id: 'i00000002', state: 'open', title: 'fleet slow', severity: 'warn', machines: [], started_at: '2026-11-24T11:00:00.000Z', closed_at: null, duration: 3600, notes: 0 },
    ]);
    assert.deepEqual((await s.query("SELECT ts, kind, machine_id, what, detail FROM vc_incident_timeline('i00000001')")).map((r) => [String(r.ts).slice(11, 16), r.kind, r.machine_id, r.what, r.detail]), [
      ['08:30', 'alert', 'db', 'open', 'db: memory low'],
      ['09:00', 'health', 'db', 'crit', 'ok -> crit (worst: memory)'],
      ['09:05', 'incident', null, 'open', 'db host swapping'],
      ['09:30', 'incident', null, 'note', 'killed the runaway import'],
      ['09:40', 'collector', 'db', 'error', 'sys: ssh: connect timed out'],
      ['09:50', 'alert', 'db', 'resolve', 'db: memory low'],
      ['10:00', 'health', 'db', 'ok', 'crit -> ok (worst: none)'],
      ['10:00', 'incident', null, 'close', 'memory back to normal'],
    ]);
    // The fleet-wide incident sees every machine, from an hour before it started.
    const fleet = await s.query("SELECT kind, machine_id, what FROM vc_incident_timeline('i00000002')");
    assert.deepEqual(fleet, [{ kind: 'health', machine_id: 'db', what: 'ok' }, { kind: 'incident', machine_id: null, what: 'open' }]);
  });
});

describe('vc incident', () => {
  test('open, note, list, show, close, replay; bad input is refused with a clear error', () => {
    const dir = tmpDir('vc-incident-');
    const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml') };
    fs.writeFileSync(env.VC_CONFIG, '');
    const ok = (args: string[]) => {
      const r = vc(args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const opened = JSON.parse(ok(['incident', 'open', 'agents stuck on worker-01', '--machine', 'worker-01', '--severity', 'warn', '--json']));
    const id = opened.incident_id as string;
    assert.match(id, /^i[0-9a-f]{8}$/);
    ok(['incident', 'note', id, 'restarted the tmux session']);
    const list = JSON.parse(ok(['incident', 'list', '--json']));
    assert.deepEqual(list.data.incidents.map((i: any) => [i.incident_id, i.state, i.severity, i.machines, i.notes]), [[id, 'open', 'warn', ['worker-01'], 1]]);
    assert.match(ok(['incident', 'show', id]), /# Incident i[0-9a-f]{8}: agents stuck on worker-01\n\nWARN · open · worker-01/);
    ok(['incident', 'close', id, '--note', 'agents moving again']);
    const replay = ok(['incident', 'replay', id, '--md']);
    assert.match(replay, /# Post-mortem .*\n\nWARN · closed · worker-01 .* lasted /);
    assert.match(replay, /incident · note: restarted the tmux session\n.*incident · close: agents moving again/);
    const detail = JSON.parse(ok(['incident', 'show', id, '--json']));
    assert.equal(detail.schema_version, 'vc.incident.v1');
    assert.deepEqual(detail.data.timeline.map((r: any) => r.what), ['open', 'note', 'close']);

    const refused = (args: string[], message: RegExp) => {
      const r = vc(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
    };
    refused(['incident', 'note', id, 'too late'], /incident i[0-9a-f]{8} is closed/);
    refused(['incident', 'close', id], /already closed/);
    refused(['incident', 'show', 'i00000000'], /no incident i00000000/);
    refused(['incident', 'show', "1' OR 1=1"], /is not an incident id/);
    refused(['incident', 'open', 'x', '--severity', 'apocalyptic'], /--severity "apocalyptic" is not one of: info, warn, crit/);
    refused(['incident', 'open', 'x', '--machine', 'bad id'], /--machine "bad id" is not a machine id/);
    refused(['incident', 'open', '   '], /the title is empty/);
    refused(['incident', 'open', 'bell\u0007'], /control characters/);
    refused(['incident', 'open', 'later', '--started', '2999-01-01T00:00:00Z'], /--started is in the future/);
    refused(['incident', 'list', '--state', 'maybe'], /--state "maybe"/);
  });
});
