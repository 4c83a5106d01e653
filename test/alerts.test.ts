// Alerts: the lifecycle in SQL (given health factors and stored transitions -> expected state and
// transitions due), and end to end through `vc alerts` on a demo fleet: evaluate, ack, --as-of,
// two evaluations at once, a damaged state file, webhook delivery with failures recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { openSession, type Session } from '../lib/duck.ts';
import { alertDeliveriesFile, alertsFile } from '../lib/paths.ts';
import { startScript, tmpDir, vc } from './helpers.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const NOW = new Date('2026-11-24T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

/** A session over a data dir whose alert log holds `lines`, with `factors` as the health factors now. */
async function sessionWith(lines: object[], factors: object[], deliveries: object[] = []): Promise<Session> {
  const dir = tmpDir('vc-alerts-sql-');
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  fs.writeFileSync(alertsFile(dir), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  if (deliveries.length) fs.writeFileSync(alertDeliveriesFile(dir), deliveries.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const s = await openSession({ dataDir: dir, now: NOW, recent: [] });
  await s.query('CREATE TEMP TABLE health_factors AS FROM v1.health_factors WHERE false');
  for (const f of factors) {
    await s.query(`INSERT INTO health_factors BY NAME
      SELECT j->>'machine_id' AS machine_id, j->>'factor_id' AS factor_id, j->>'subject' AS subject, j->>'severity' AS severity,
        (j->>'value')::DOUBLE AS value, j->>'summary' AS summary, 1.0 AS impact FROM (SELECT $1::JSON AS j)`, [JSON.stringify(f)]);
  }
  return s;
}

const disk = (machine: string, severity: string, value = 95) =>
  ({ machine_id: machine, factor_id: 'disk_used', subject: '/data', severity, value, summary: `/data is ${value}% full` });
const line = (ts: string, transition: string, machine: string, extra: object = {}) => ({
  ts, transition, alert_id: idOf('disk_full', machine, '/data'), rule_id: 'disk_full', machine_id: machine, subject: '/data',
  severity: 'crit', title: `${machine}: /data is full`, summary: 'full', evidence: { used_pct: 95 }, next: ['vc report machines --md'], fix: null, note: null, ...extra,
});
// The id is md5 of rule, machine, subject (views/v1/60_alerts.sql): computed the same way here.
import { createHash } from 'node:crypto';
const idOf = (rule: string, machine: string, subject: string) =>
  `a${createHash('md5').update([rule, machine, subject].join('\u001f')).digest('hex').slice(0, 10)}`;

describe('alert lifecycle in SQL: given transitions and factors, expected state and transitions due', () => {
  test('new condition opens; a held one updates on a new severity or after 30 min; a cleared one resolves', async (t) => {
    const s = await sessionWith([
      line(minutesAgo(10), 'open', 'held'),
      line(minutesAgo(45), 'open', 'refresh'),
      line(minutesAgo(10), 'open', 'cleared'),
    ], [disk('new', 'crit'), disk('held', 'crit'), disk('refresh', 'crit'), disk('below', 'warn')]);
    t.after(() => s.close());
    const due = await s.query('SELECT machine_id, "transition", severity FROM v1.alert_due ORDER BY machine_id');
    assert.deepEqual(due, [
      { machine_id: 'cleared', transition: 'resolve', severity: 'crit' },
      { machine_id: 'new', transition: 'open', severity: 'crit' },
      { machine_id: 'refresh', transition: 'update', severity: 'crit' },
    ]);
    const ids = await s.query('SELECT alert_id FROM v1.alert_candidates WHERE machine_id = \'new\'');
    assert.deepEqual(ids, [{ alert_id: idOf('disk_full', 'new', '/data') }], 'the id is stable: md5 of rule, machine and subject');
  });

  test('a severity change updates at once', async (t) => {
    const s = await sessionWith([line(minutesAgo(5), 'open', 'm', { severity: 'warn' })], [disk('m', 'crit')]);
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT "transition", severity FROM v1.alert_due'), [{ transition: 'update', severity: 'crit' }]);
  });

  test('a resolved alert reopens only after its rule\'s cooldown (disk_full: 60 min); a reopen clears the ack', async (t) => {
    const s = await sessionWith([
      line(minutesAgo(300), 'open', 'soon'), line(minutesAgo(200), 'ack', 'soon', { note: 'looking' }), line(minutesAgo(30), 'resolve', 'soon'),
      line(minutesAgo(300), 'open', 'later'), line(minutesAgo(200), 'ack', 'later', { note: 'looking' }), line(minutesAgo(90), 'resolve', 'later'),
    ], [disk('soon', 'crit'), disk('later', 'crit')]);
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT machine_id, "transition" FROM v1.alert_due'), [{ machine_id: 'later', transition: 'reopen' }]);
    assert.deepEqual(await s.query('SELECT machine_id, state, episodes, ack_note FROM v1.alerts ORDER BY machine_id'), [
      { machine_id: 'later', state: 'resolved', episodes: 1, ack_note: 'looking' },
      { machine_id: 'soon', state: 'resolved', episodes: 1, ack_note: 'looking' },
    ]);
  });

  test('state is the fold of the log: open, acked, resolved, reopened (ack cleared); first seen is kept', async (t) => {
    const s = await sessionWith([
      line(minutesAgo(300), 'open', 'm'), line(minutesAgo(250), 'ack', 'm', { note: 'mine' }), line(minutesAgo(240), 'update', 'm', { severity: 'warn' }),
      line(minutesAgo(200), 'resolve', 'm'), line(minutesAgo(100), 'reopen', 'm'), line(minutesAgo(60), 'update', 'm'),
      line(minutesAgo(20), 'open', 'n'), line(minutesAgo(10), 'ack', 'n', { note: 'on it' }),
      // Not transitions: skipped, never a crash.
      { ts: 'yesterday', transition: 'open', alert_id: 'ax' }, { ts: minutesAgo(5), transition: 'explode', alert_id: 'ay', rule_id: 'r', machine_id: 'm' },
      // In the future of NOW: not yet.
      line(new Date(NOW.getTime() + 60_000).toISOString(), 'resolve', 'n'),
    ], [disk('m', 'crit'), disk('n', 'crit')]);
    t.after(() => s.close());
    assert.deepEqual(await s.query(`SELECT machine_id, state, episodes, first_seen_at, opened_at, last_seen_at, acked_at, ack_note, resolved_at
      FROM v1.alerts ORDER BY machine_id`), [
      { machine_id: 'm', state: 'open', episodes: 2, first_seen_at: minutesAgo(300), opened_at: minutesAgo(100), last_seen_at: minutesAgo(60), acked_at: null, ack_note: null, resolved_at: null },
      { machine_id: 'n', state: 'acked', episodes: 1, first_seen_at: minutesAgo(20), opened_at: minutesAgo(20), last_seen_at: minutesAgo(20), acked_at: minutesAgo(10), ack_note: 'on it', resolved_at: null },
    ]);
    // An acked alert still updates and resolves like an open one.
    assert.deepEqual(await s.query('SELECT machine_id, "transition" FROM v1.alert_due ORDER BY machine_id'), [{ machine_id: 'm', transition: 'update' }]);
  });

  test('deliveries due: new transitions, failed ones after their backoff, never acks, at most 8 attempts', async (t) => {
    const tr = (m: string, mins: number) => line(minutesAgo(mins), 'open', m);
    const tries = (m: string, mins: number, n: number, lastAgo: number, ok = false) => Array.from({ length: n }, (_, i) => ({
      ts: minutesAgo(i === n - 1 ? lastAgo : mins - i), alert_id: idOf('disk_full', m, '/data'), transition: 'open',
      transition_ts: minutesAgo(mins), attempt: i + 1, ok: ok && i === n - 1, status: ok && i === n - 1 ? 200 : 500, error: null,
    }));
    const s = await sessionWith(
      [tr('fresh', 1), tr('done', 30), tr('backoff', 30), tr('retry', 30), tr('gaveup', 60), line(minutesAgo(2), 'ack', 'fresh'), tr('old', 2000)],
      [],
      // backoff: 3 failures, last 2 min ago (waits 4 min); retry: 2 failures, last 3 min ago (waits 2 min).
      [...tries('done', 30, 2, 20, true), ...tries('backoff', 30, 3, 2), ...tries('retry', 30, 2, 3), ...tries('gaveup', 60, 8, 1)],
    );
    t.after(() => s.close());
    assert.deepEqual(await s.query('SELECT machine_id, "transition", attempts FROM v1.alert_deliveries_due ORDER BY machine_id'), [
      { machine_id: 'fresh', transition: 'open', attempts: 0 },
      { machine_id: 'retry', transition: 'open', attempts: 2 },
    ]);
  });
});

describe('vc alerts on a demo fleet', () => {
  const dir = tmpDir('vc-alerts-');
  const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml') };
  let server: http.Server;
  let received: Array<Record<string, unknown>> = [];
  let failFirst = 0;
  before(async () => {
    fs.writeFileSync(env.VC_CONFIG, '');
    assert.equal(vc(['demo', '--machines', '10', '--days', '1'], env).code, 0);
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(503).end('busy');
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => server?.close());
  const json = (args: string[]) => {
    const r = vc(args, env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  // (Run without blocking this process: the webhook server lives in it.)
  const evaluate = async () => {
    const d = await startScript(path.join('lib', 'cli', 'main.ts'), ['alerts', 'evaluate', '--json'], env).done;
    assert.equal(d.code, 0, d.stderr);
    return JSON.parse(d.stdout);
  };

  test('evaluate opens one alert per condition, delivers them (failures recorded), and a second evaluation changes nothing', async () => {
    const port = (server.address() as { port: number }).port;
    fs.writeFileSync(env.VC_CONFIG, `[alerts]\nwebhook_url = "http://127.0.0.1:${port}/hook"\nwebhook_timeout_seconds = 5\n`);
    failFirst = 2;
    const first = await evaluate();
    const opened = first.transitions.map((t: any) => `${t.machine_id} ${t.rule_id}`).sort();
    for (const want of ['demo-03 disk_full', 'demo-05 machine_silent', 'demo-07 load_high', 'demo-08 memory_low', 'demo-08 oom_kills', 'demo-09 dirty_repos']) {
      assert.ok(opened.includes(want), `${want} in ${opened.join(', ')}`);
    }
    assert.ok(first.transitions.every((t: any) => t.transition === 'open'));
    assert.ok(!opened.some((o: string) => o.startsWith('demo-01 ')), 'the healthy machine has no alerts');
    const n = first.transitions.length;
    assert.deepEqual(first.deliveries, { attempted: n, delivered: n - 2, failed: 2, left: 0 });
    assert.equal(received.length, n - 2);
    assert.equal(received[0]!.schema_version, 'vc.alert.v1');
    const ajv = new Ajv2020({ strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(vc(['robot-docs', 'schemas', '--name', 'alert'], env).stdout).schemas.alert);
    for (const payload of received) assert.ok(validate(payload), ajv.errorsText(validate.errors));
    const tries = fs.readFileSync(alertDeliveriesFile(dir), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(tries.filter((d) => !d.ok).map((d) => [d.status, d.error]), [[503, 'HTTP 503 Service Unavailable'], [503, 'HTTP 503 Service Unavailable']]);

    const second = await evaluate();
    assert.deepEqual(second.transitions, []);
    assert.deepEqual(second.deliveries, { attempted: 0, delivered: 0, failed: 0, left: 0 }, 'the failed two wait for their backoff');
    fs.writeFileSync(env.VC_CONFIG, '');

    // --due (cron, every minute): nothing until evaluate_every_seconds have passed.
    const marker = path.join(dir, 'state', 'alerts-evaluated');
    assert.deepEqual([vc(['alerts', 'evaluate', '--due'], env).stdout], ['']);
    const old = new Date(Date.now() - 301_000);
    fs.utimesSync(marker, old, old);
    assert.match(vc(['alerts', 'evaluate', '--due'], env).stdout, /^alerts: 0 open, 0 reopen, \d+ update, 0 resolve/);
    assert.ok(fs.statSync(marker).mtimeMs > old.getTime() + 1000);
  });

  test('list, ack with a note, --as-of before and after; bad ids and resolved alerts are refused', () => {
    const list = json(['alerts', 'list', '--json']);
    assert.equal(list.schema_version, 'vc.alerts.v1');
    const disk = list.data.alerts.find((a: any) => a.rule_id === 'disk_full' && a.machine_id === 'demo-03');
    assert.equal(disk.state, 'open');
    assert.ok(disk.next.length > 0);
    const before = new Date().toISOString();
    const acked = json(['alerts', 'ack', disk.alert_id, '--note', 'freeing space', '--json']);
    assert.deepEqual([acked.transition, acked.note], ['ack', 'freeing space']);
    // (demo-03 has other alerts too: its disk is also filling.)
    const full = (alerts: any[]) => alerts.filter((a) => a.alert_id === disk.alert_id);
    const now = json(['alerts', 'list', '--json', '--machine', 'demo-03']).data.alerts;
    assert.ok(now.every((a: any) => a.machine_id === 'demo-03'));
    assert.deepEqual(full(now).map((a: any) => [a.alert_id, a.state, a.ack_note]), [[disk.alert_id, 'acked', 'freeing space']]);
    const then = json(['alerts', 'list', '--json', '--machine', 'demo-03', '--as-of', before]).data.alerts;
    assert.deepEqual(full(then).map((a: any) => a.state), ['open']);
    assert.deepEqual(json(['alerts', 'list', '--json', '--as-of', '2020-01-01T00:00:00Z']).data.alerts, []);
    const md = vc(['alerts', 'list', '--md'], env);
    assert.match(md.stdout, new RegExp(`\\| ${disk.alert_id} \\| acked \\| crit \\| demo-03 \\|`));
    assert.match(md.stdout, /\(acked: freeing space\)/);

    const bad = vc(['alerts', 'ack', 'a0000000000'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no alert a0000000000/);
    assert.equal(vc(['alerts', 'ack', "x'; DROP"], env).code, 2);
    assert.equal(vc(['alerts', 'list', '--state', 'closed'], env).code, 2);
  });

  test('two evaluations at once write each transition once; a torn last line is cut, not read', async () => {
    // No alerts yet (the log moved away): both find every condition new, one after the other.
    fs.renameSync(alertsFile(dir), `${alertsFile(dir)}.before`);
    const main = path.join('lib', 'cli', 'main.ts');
    const runs = [startScript(main, ['alerts', 'evaluate', '--json'], env), startScript(main, ['alerts', 'evaluate', '--json'], env)];
    const done = await Promise.all(runs.map((r) => r.done));
    for (const d of done) assert.equal(d.code, 0, d.stderr);
    const counts = done.map((d) => JSON.parse(d.stdout).transitions.length).sort((a, b) => a - b);
    assert.equal(counts[0], 0, 'the later one found them all open');
    assert.ok(counts[1]! > 5);
    const opens = () => fs.readFileSync(alertsFile(dir), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).alert_id);
    assert.equal(new Set(opens()).size, opens().length, 'no alert opened twice');

    // A write cut short (a crash mid-line): skipped by readers, cut by the next append.
    const first = opens()[0]!;
    fs.appendFileSync(alertsFile(dir), '{"ts":"2026-11-24T00:00:00Z","transition":"op');
    assert.equal(json(['alerts', 'list', '--json']).data.alerts.length, counts[1]);
    const ack = json(['alerts', 'ack', first, '--json']);
    assert.equal(ack.transition, 'ack');
    const text = fs.readFileSync(alertsFile(dir), 'utf8');
    assert.ok(text.endsWith('\n') && !text.includes('"transition":"op\n') && !text.includes('"op{'), 'the torn line is gone, the ack whole');
  });

  test('a webhook URL that is not http(s) is a config error', () => {
    fs.writeFileSync(env.VC_CONFIG, '[alerts]\nwebhook_url = "file:///etc/passwd"\n');
    const r = vc(['alerts', 'evaluate'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /alerts\.webhook_url: must be an http:\/\/ or https:\/\/ URL/);
    fs.writeFileSync(env.VC_CONFIG, '');
  });
});
