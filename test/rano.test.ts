// rano: real SQLite stores made with its documented DDL (fixtures/rano/schema.sql) read by row id,
// in batches, through a replaced store, an old schema and a locked one; collected end to end with
// vc collect; and the network views over what was stored: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCollector, type CollectContext, type Item } from '../lib/collector.ts';
import { loadConfig, validateConfig } from '../lib/config.ts';
import { batchQuery, ranoCollector, ranoFact, ranoKey, ranoSchema, type RanoItem } from '../lib/sources/rano.ts';
import { openSession, type Session } from '../lib/duck.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { repoRoot } from '../lib/paths.ts';
import { reportContext, runReportQueries } from '../lib/report.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';

const FIX = path.join(repoRoot, 'fixtures', 'rano');
/** A real store: the sqlite3 CLI runs the fixture files in order. */
const makeStore = (file: string, ...sql: string[]) => {
  execFileSync('sqlite3', [file], { input: sql.map((f) => fs.readFileSync(path.join(FIX, f), 'utf8')).join('\n') });
  return file;
};
const data = (items: Item[]) => items.map((i) => i.data as RanoItem);

describe('rano rows, parsed', () => {
  test('a row is an event with its store id; a row without id, time or event is skipped with a reason', () => {
    const row = { id: 7, ts: '2026-08-20T14:00:03Z', run_id: '48211-1755698400123', event: 'connect', provider: 'anthropic', pid: 48311, comm: 'claude',
      cmdline: 'claude -p "summarise the secret plan"', proto: 'tcp', local_ip: '10.0.0.12', local_port: 51844, remote_ip: '160.79.104.10', remote_port: 443,
      domain: 'api.anthropic.com', ancestry_path: '', remote_is_private: 0, ip_version: 4, duration_ms: null, alert: 1, retry_count: null, host_first_ts: '2026-08-01T00:00:00Z' };
    const f = ranoFact(row) as RanoItem;
    assert.deepEqual(f, withNulls(ranoSchema, {
      id: 7, ts: '2026-08-20T14:00:03.000Z', monitor_run_id: '48211-1755698400123', event: 'connect', provider: 'anthropic', pid: 48311, comm: 'claude',
      cmdline_head: 'claude -p', proto: 'tcp', local_ip: '10.0.0.12', local_port: 51844, remote_ip: '160.79.104.10', remote_port: 443,
      domain: 'api.anthropic.com', ancestry_path: '', remote_is_private: false, ip_version: 4, alert: true, host_first_seen_at: '2026-08-01T00:00:00.000Z',
    }));
    assert.equal(ranoFact({ ...row, id: '7' }), 'a row without an integer id');
    assert.equal(ranoFact({ ...row, ts: 'soon' }), 'a row whose ts is not a time');
    assert.equal(ranoFact({ ...row, event: null }), 'a row without an event');
    // The key: the store's id and the fields the doc dedupes on.
    assert.equal(ranoKey(f), ranoKey(ranoFact({ ...row, comm: 'other' }) as RanoItem));
    assert.notEqual(ranoKey(f), ranoKey(ranoFact({ ...row, local_port: 51845 }) as RanoItem));
    assert.notEqual(ranoKey(f), ranoKey(ranoFact({ ...row, id: 8 }) as RanoItem));
  });

  test('a column the store lacks is read as NULL; ids and limits are checked integers', () => {
    const q = batchQuery(new Set(['id', 'ts', 'event', 'provider', 'remote_ip', 'domain']), 41, 100);
    assert.match(q, /SELECT id, ts, NULL AS run_id, event, substr\(provider, 1, 40\) AS provider, NULL AS pid,/);
    assert.match(q, /substr\(domain, 1, 300\) AS domain/);
    assert.match(q, /WHERE id > 41 ORDER BY id LIMIT 100/);
    assert.throws(() => batchQuery(new Set(), 1.5, 1), /not an integer/);
  });
});

/** A collector context that runs scripts with the local sh and records the commits. */
function localCtx(rano: Record<string, unknown>, cursor: unknown) {
  const config = validateConfig({ collectors: { rano } }, '(test)');
  const commits: Array<{ items: Item[]; cursor: any }> = [];
  const warnings: string[] = [];
  const ctx = {
    machine: config.machines[0], config, runId: 'r', cursor, limits: { timeoutMs: 60_000, maxBytes: 16 << 20 },
    warn: (m: string) => warnings.push(m),
    run: async (_what: string, script: string) => ({ stdout: execFileSync('sh', ['-s'], { input: script, encoding: 'utf8' }) }),
    commit: async (items: Item[], c: unknown) => { commits.push({ items, cursor: JSON.parse(JSON.stringify(c)) }); },
    timeLeftMs: () => 60_000,
  } as unknown as CollectContext;
  return { ctx, commits, warnings, items: () => commits.flatMap((c) => c.items), cursor: () => commits.at(-1)?.cursor };
}

describe('rano\'s store, read by id', () => {
  test('a long store is read in batches, each committed with its last id; what came since is read next time', async () => {
    const store = makeStore(path.join(tmpDir('vc-rano-'), 'observer.sqlite'), 'schema.sql', 'default.sql');
    const a = localCtx({ store, batch_rows: 2 }, null);
    await ranoCollector.collect(a.ctx);
    assert.deepEqual(a.commits.map((c) => [c.items.length, c.cursor]), [[2, { last_id: 2 }], [2, { last_id: 4 }], [1, { last_id: 5 }]]);
    const rows = data(a.items());
    // When the store first saw each host: the domain's first row, or the unresolved IP's.
    assert.deepEqual(rows.map((r) => [r.event, r.domain, r.host_first_seen_at]), [
      ['connect', 'api.anthropic.com', '2026-08-20T14:00:03.000Z'],
      ['close', 'api.anthropic.com', '2026-08-20T14:00:03.000Z'],
      ['connect', 'unknown', '2026-08-20T14:05:19.000Z'],
      ['close', 'unknown', '2026-08-20T14:05:19.000Z'],
      ['connect', 'paste.example.net', '2026-08-20T14:09:00.000Z'],
    ]);
    assert.deepEqual([rows[1]!.duration_ms, rows[3]!.retry_count, rows[4]!.alert, rows[4]!.ancestry_path, rows[2]!.ip_version],
      [61234, 4, true, 'systemd:1,bash:500,claude:48311', 6]);
    assert.equal(rows[4]!.cmdline_head, 'claude -p', 'a prompt on the command line is not kept');

    execFileSync('sqlite3', [store], { input: `INSERT INTO events (ts, run_id, event, provider, pid, comm, proto, local_ip, local_port, remote_ip, remote_port, domain)
      VALUES ('2026-08-20T15:00:00Z', '48211-1755698400123', 'connect', 'anthropic', 48311, 'claude', 'tcp', '10.0.0.12', 52000, '160.79.104.11', 443, 'api.anthropic.com');` });
    const b = localCtx({ store, batch_rows: 2 }, a.cursor());
    await ranoCollector.collect(b.ctx);
    assert.deepEqual(data(b.items()).map((r) => [r.id, r.host_first_seen_at]), [[6, '2026-08-20T14:00:03.000Z']]);
    assert.deepEqual(b.cursor(), { last_id: 6 });
  });

  test('a replaced store (ids below the cursor) is read from its start; an old schema reads as NULLs', async () => {
    const dir = tmpDir('vc-rano-');
    const store = makeStore(path.join(dir, 'observer.sqlite'), 'old-schema.sql');
    const c = localCtx({ store }, { last_id: 40 });
    await ranoCollector.collect(c.ctx);
    assert.match(c.warnings.join('\n'), /ends at id 1, before the cursor's 40: it was replaced, and is read from its start/);
    assert.deepEqual(data(c.items()), [withNulls(ranoSchema, {
      id: 1, ts: '2026-01-20T10:00:05.000Z', event: 'connect', provider: 'google', pid: 1236, comm: 'gemini', cmdline_head: '/usr/bin/gemini', proto: 'tcp',
      local_ip: '192.168.1.100', local_port: 54323, remote_ip: '142.250.189.206', remote_port: 443, domain: 'gemini.google.com',
      host_first_seen_at: '2026-01-20T10:00:05.000Z',
    })]);
    assert.deepEqual(c.cursor(), { last_id: 1 });
  });
});

/** A temp setup for vc collect --source rano with a configured store. */
function setup(storeToml?: string, extra = '') {
  const dir = tmpDir('vc-rano-');
  const conf = path.join(dir, 'vc.toml');
  const store = path.join(dir, 'rano', 'observer.sqlite');
  fs.mkdirSync(path.dirname(store));
  fs.writeFileSync(conf, `[collectors.rano]\n${storeToml ?? `store = ${JSON.stringify(store)}`}\n${extra}`);
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf };
  const collectHere = async () => {
    const { config } = loadConfig(conf);
    return runCollector(ranoCollector, { config, dataDir: env.VC_DATA_DIR, machine: config.machines[0]! });
  };
  return { dir, store, env, collectHere, rows: () => readRaw(env.VC_DATA_DIR, 'rano', 'local') };
}

describe('vc collect --source rano', () => {
  test('reads the configured store into one event per row, keyed by id; again, nothing new', async () => {
    const s = setup();
    makeStore(s.store, 'schema.sql', 'default.sql');
    const r = vc(['collect', '--source', 'rano', '--json'], s.env);
    assert.equal(r.code, 0, r.stderr);
    const run = readRaw(s.env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
    assert.deepEqual([run.status, run.rows, run.cursor], ['ok', 5, { last_id: 5 }]);
    assert.deepEqual(s.rows().map((l) => [l.kind, l.data.id, l.data.event, l.data.monitor_run_id]), [
      ['event', 1, 'connect', '48211-1755698400123'], ['event', 2, 'close', '48211-1755698400123'], ['event', 3, 'connect', '48211-1755698400123'],
      ['event', 4, 'close', '48211-1755698400123'], ['event', 5, 'connect', '48211-1755698400123'],
    ]);
    assert.ok(!JSON.stringify(s.rows()).includes('secret plan'));
    const again = await s.collectHere();
    assert.deepEqual([again.status, again.rows], ['ok', 0]);
  });

  test('not configured or not there is absent; empty is ok; not rano\'s store or not SQLite is a recorded error, nothing stored', async () => {
    const none = await setup('').collectHere();
    assert.equal(none.status, 'absent');
    assert.match(none.warnings[0]!, /^rano's store is not configured here/);
    const missing = await setup().collectHere();
    assert.equal(missing.status, 'absent');
    assert.match(missing.warnings[0]!, /^rano's store is not here \(no file .*observer\.sqlite\)/);
    const empty = setup();
    makeStore(empty.store, 'schema.sql', 'empty.sql');
    assert.deepEqual(await empty.collectHere().then((o) => [o.status, o.rows]), ['ok', 0]);
    const other = setup();
    makeStore(other.store, 'notrano.sql');
    const o = await other.collectHere();
    assert.deepEqual([o.status, o.rows], ['error', 0]);
    assert.match(o.error!, /rano's store \(.*observer\.sqlite\) has no events table: it is not a rano store/);
    const junk = setup();
    fs.writeFileSync(junk.store, 'not a database\n'.repeat(200));
    const j = await junk.collectHere();
    assert.equal(j.status, 'error');
    assert.match(j.error!, /reading rano's store \(.*\) failed at query columns: ".*(not a database|file is not)/);
    assert.deepEqual([...other.rows(), ...junk.rows()], []);
  });

  test('a store locked by a writer holds the run up to its timeout: recorded, nothing stored', async () => {
    const s = setup(undefined, 'timeout_seconds = 2');
    // A rollback-journal store (not WAL): an exclusive writer keeps readers out.
    execFileSync('sqlite3', [s.store], { input: fs.readFileSync(path.join(FIX, 'schema.sql'), 'utf8').replace('PRAGMA journal_mode=WAL;', '') + fs.readFileSync(path.join(FIX, 'default.sql'), 'utf8') });
    const writer = spawn('sqlite3', [s.store], { stdio: ['pipe', 'ignore', 'ignore'] });
    writer.stdin.write("BEGIN EXCLUSIVE; INSERT INTO events (ts, event, provider) VALUES ('2026-08-20T16:00:00Z', 'connect', 'unknown');\n");
    await new Promise((r) => setTimeout(r, 300));
    try {
      const t0 = Date.now();
      const o = await s.collectHere();
      assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
      assert.equal(o.status, 'timeout');
      assert.match(o.error!, /rano timed out after 2s/);
      assert.deepEqual(s.rows(), []);
    } finally {
      writer.stdin.end('ROLLBACK;\n');
    }
  });
});

describe('network views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  let seq = 0;
  const store = async (dir: string, machine: string, at: string, items: Array<Partial<RanoItem>>) => {
    const run = `r-${++seq}`;
    const envs: Envelope[] = items.map((d) => {
      const f = ranoSchema.parse(withNulls(ranoSchema, d));
      return {
        v: 1, source: 'rano', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
        kind: 'event', data: storable(f) as Record<string, unknown>, key: ranoKey(f),
      };
    });
    await appendEnvelopes(dir, envs);
    await appendEnvelopes(dir, [{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'rano', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
    }]);
  };
  let id = 0;
  const ev = (ts: string, domain: string, remote: string, more: Partial<RanoItem> = {}): Partial<RanoItem> => ({
    id: ++id, ts, event: 'connect', provider: 'anthropic', pid: 100, comm: 'claude', proto: 'tcp', local_ip: '10.0.0.12', local_port: 40000 + id,
    remote_ip: remote, remote_port: 443, domain, remote_is_private: false, alert: false, host_first_seen_at: '2026-10-01T00:00:00.000Z', ...more,
  });
  const at = (h: number, m: number, s = 0) => `2026-11-24T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.000Z`;
  const codex = (ts: string, domain: string, remote: string, first: string, more: Partial<RanoItem> = {}) =>
    ev(ts, domain, remote, { provider: 'openai', comm: 'codex', host_first_seen_at: first, ...more });

  let dir: string;
  let session: Session;
  before(async () => {
    dir = tmpDir('vc-network-views-');
    // n1: Claude's API ten times an hour from 07:00 to 10:59, forty times in the last hour, one close;
    // Codex reaching new hosts (a paste site with an alert, an unresolved IP, a host written with a
    // trailing dot), a host seen before, a LAN address, a GitHub host; an old host before the window.
    const baseline = [7, 8, 9, 10].flatMap((h) => Array.from({ length: 10 }, (_, i) => ev(at(h, 30, i), 'api.anthropic.com', '160.79.104.10')));
    const burst = Array.from({ length: 40 }, (_, i) => ev(at(11, 5 + Math.floor(i / 2), (i % 2) * 30), 'api.anthropic.com', '160.79.104.10'));
    const paste = codex(at(11, 50), 'paste.example.net', '203.0.113.50', at(11, 50), { alert: true });
    await store(dir, 'n1', '2026-11-24T04:05:00.000Z', [codex('2026-11-24T04:00:00.000Z', 'old.example.com', '203.0.113.9', '2026-11-24T04:00:00.000Z')]);
    await store(dir, 'n1', '2026-11-24T11:00:00.000Z', baseline);
    await store(dir, 'n1', '2026-11-24T11:58:00.000Z', [
      ...burst,
      ev(at(11, 25), 'api.anthropic.com', '160.79.104.10', { event: 'close', duration_ms: 61234 }),
      codex(at(11, 10), 'unknown', '198.51.100.7', at(11, 10)),
      codex(at(11, 15), 'evil.example.org', '192.0.2.66', '2026-11-20T00:00:00.000Z'),
      codex(at(11, 20), 'unknown', '10.0.0.5', at(11, 20), { remote_is_private: true }),
      codex(at(11, 30), 'lb-140-82-112-3-iad.github.com', '140.82.112.3', at(11, 30)),
      paste,
      codex(at(11, 55), 'CDN.Sketchy.Example.', '192.0.2.10', at(11, 55)),
    ]);
    // The paste-site row read again by a later run: once.
    await store(dir, 'n1', '2026-11-24T11:59:00.000Z', [paste]);
    // n2: rano read, no connections.
    await store(dir, 'n2', '2026-11-24T11:50:00.000Z', []);
    session = await openSession({ dataDir: dir, now: NOW, machines: ['n1', 'n2'].map((m) => ({ id: m, ssh: 'local', tags: [], collectable: false, collectors: [] })) });
  });
  after(() => session?.close());
  const query = (sql: string) => session.query(sql);

  test('rano_events: each row once, the host a domain (lower case, no trailing dot) or the IP of an unresolved one', async () => {
    assert.deepEqual(await query(`SELECT count(*) AS n, count(DISTINCT "key") AS keys FROM v1.rano_events`), [{ n: 88, keys: 88 }]);
    assert.deepEqual(await query(`SELECT ts, "domain", host, resolved FROM v1.rano_events WHERE provider = 'openai' ORDER BY ts`), [
      { ts: '2026-11-24T04:00:00.000Z', domain: 'old.example.com', host: 'old.example.com', resolved: true },
      { ts: '2026-11-24T11:10:00.000Z', domain: 'unknown', host: '198.51.100.7', resolved: false },
      { ts: '2026-11-24T11:15:00.000Z', domain: 'evil.example.org', host: 'evil.example.org', resolved: true },
      { ts: '2026-11-24T11:20:00.000Z', domain: 'unknown', host: '10.0.0.5', resolved: false },
      { ts: '2026-11-24T11:30:00.000Z', domain: 'lb-140-82-112-3-iad.github.com', host: 'lb-140-82-112-3-iad.github.com', resolved: true },
      { ts: '2026-11-24T11:50:00.000Z', domain: 'paste.example.net', host: 'paste.example.net', resolved: true },
      { ts: '2026-11-24T11:55:00.000Z', domain: 'CDN.Sketchy.Example.', host: 'cdn.sketchy.example', resolved: true },
    ]);
  });

  test('network_hosts and network_unknown_domains: new to the machine, not known, not local', async () => {
    assert.deepEqual(await query(`SELECT host, connects, closes, is_new, known, local_network, alerts, processes FROM v1.network_hosts WHERE machine_id = 'n1' ORDER BY host`), [
      { host: '10.0.0.5', connects: 1, closes: 0, is_new: true, known: false, local_network: true, alerts: 0, processes: ['codex'] },
      { host: '198.51.100.7', connects: 1, closes: 0, is_new: true, known: false, local_network: false, alerts: 0, processes: ['codex'] },
      { host: 'api.anthropic.com', connects: 80, closes: 1, is_new: false, known: true, local_network: false, alerts: 0, processes: ['claude'] },
      { host: 'cdn.sketchy.example', connects: 1, closes: 0, is_new: true, known: false, local_network: false, alerts: 0, processes: ['codex'] },
      { host: 'evil.example.org', connects: 1, closes: 0, is_new: false, known: false, local_network: false, alerts: 0, processes: ['codex'] },
      { host: 'lb-140-82-112-3-iad.github.com', connects: 1, closes: 0, is_new: true, known: true, local_network: false, alerts: 0, processes: ['codex'] },
      { host: 'paste.example.net', connects: 1, closes: 0, is_new: true, known: false, local_network: false, alerts: 1, processes: ['codex'] },
    ]);
    assert.deepEqual((await query(`SELECT machine_id, host FROM v1.network_unknown_domains ORDER BY host`)).map((r) => r.host),
      ['198.51.100.7', 'cdn.sketchy.example', 'paste.example.net']);
  });

  test('network_hourly and network_spikes: the last hour against the usual hour, per provider', async () => {
    assert.deepEqual(await query(`SELECT provider, hour, connects, closes, hosts, alerts FROM v1.network_hourly WHERE machine_id = 'n1' ORDER BY provider, hour`), [
      { provider: 'anthropic', hour: '2026-11-24T07:00:00.000Z', connects: 10, closes: 0, hosts: 1, alerts: 0 },
      { provider: 'anthropic', hour: '2026-11-24T08:00:00.000Z', connects: 10, closes: 0, hosts: 1, alerts: 0 },
      { provider: 'anthropic', hour: '2026-11-24T09:00:00.000Z', connects: 10, closes: 0, hosts: 1, alerts: 0 },
      { provider: 'anthropic', hour: '2026-11-24T10:00:00.000Z', connects: 10, closes: 0, hosts: 1, alerts: 0 },
      { provider: 'anthropic', hour: '2026-11-24T11:00:00.000Z', connects: 40, closes: 1, hosts: 1, alerts: 0 },
      { provider: 'openai', hour: '2026-11-24T11:00:00.000Z', connects: 6, closes: 0, hosts: 6, alerts: 1 },
    ]);
    // Codex has no earlier hours to compare with: no row.
    assert.deepEqual(await query(`SELECT * FROM v1.network_spikes`), [
      { machine_id: 'n1', provider: 'anthropic', last_hour_connects: 40, last_hour_hosts: 1, typical_hour_connects: 10, hours_compared: 4, ratio: 4 },
    ]);
  });

  test('network_factors: unknown hosts on every machine rano was read on, the spike; graded and triaged', async () => {
    assert.deepEqual(await query(`SELECT machine_id, factor_id, subject, value, summary, title FROM v1.network_factors ORDER BY machine_id, factor_id`), [
      { machine_id: 'n1', factor_id: 'network_spike', subject: 'anthropic', value: 4,
        summary: 'anthropic agents opened 40 connections in the last hour to 1 hosts, 4.0x their usual 10.0 an hour', title: 'n1: anthropic agents opened 4.0x their usual connections' },
      { machine_id: 'n1', factor_id: 'network_unknown_domains', subject: null, value: 3,
        summary: 'agents contacted 3 hosts for the first time in the last 6 h that are not on the known list: 198.51.100.7 (1 by codex), cdn.sketchy.example (1 by codex), paste.example.net (1 by codex)',
        title: 'n1: agents contacted 3 unknown hosts' },
      { machine_id: 'n2', factor_id: 'network_unknown_domains', subject: null, value: 0, summary: 'no new unknown hosts in the last 6 h', title: 'n2: agents contacted 0 unknown hosts' },
    ]);
    assert.deepEqual(await query(`SELECT machine_id, factor_id, severity, next FROM v1.triage_items WHERE factor_id LIKE 'network%' ORDER BY factor_id`), [
      { machine_id: 'n1', factor_id: 'network_spike', severity: 'warn', next: ['vc report events --machine n1 --md',
        `vc query "SELECT provider, hour, connects, closes, hosts, alerts FROM network_hourly WHERE machine_id = 'n1' ORDER BY hour DESC, connects DESC"`, 'vc report machines --md'] },
      { machine_id: 'n1', factor_id: 'network_unknown_domains', severity: 'warn', next: ['vc report events --machine n1 --md',
        `vc query "SELECT host, connects, processes, providers, remote_ips, first_seen_at FROM network_unknown_domains WHERE machine_id = 'n1' ORDER BY connects DESC"`, 'vc report machines --md'] },
    ]);
  });

  test('vc report events: the network part over the span', async () => {
    await session.query(`SET VARIABLE vc_report_machine = NULL`);
    const d = await runReportQueries('events', session, { since: new Date('2026-11-24T06:00:00Z') });
    assert.deepEqual(d.network_totals, { connects: 86, closes: 1, hosts: 7, machines: 1, alerts: 1, unknown_hosts: 3, first_at: '2026-11-24T07:30:00.000Z', last_at: '2026-11-24T11:55:00.000Z' });
    assert.deepEqual((d.network_unknown as any[]).map((h) => [h.machine_id, h.host, h.connects, h.first_seen_at]), [
      ['n1', '198.51.100.7', 1, '2026-11-24T11:10:00.000Z'], ['n1', 'cdn.sketchy.example', 1, '2026-11-24T11:55:00.000Z'], ['n1', 'paste.example.net', 1, '2026-11-24T11:50:00.000Z'],
    ]);
    assert.deepEqual((d.network_top_hosts as any[])[0], { host: 'api.anthropic.com', connects: 80, machines: 1, providers: ['anthropic'], known: true, resolved: true, first_seen_at: '2026-10-01T00:00:00.000Z' });
    assert.deepEqual((d.network_spikes as any[]).map((x) => [x.machine_id, x.provider, x.ratio]), [['n1', 'anthropic', 4]]);
    const report = (await import('../reports/events.ts')).default;
    const md = report.render(d, { ...(await reportContext(session, NOW, [])), options: {} });
    assert.match(md, /\*\*86 connections\*\* to 7 hosts on 1 machines \(3 new and unknown, 1 alerts\)/);
    assert.match(md, /\| n1 \| paste\.example\.net \| 1 \| codex \| openai \| 203\.0\.113\.50 \| 443 \|/);
    assert.match(md, /\| n1 \| anthropic \| 40 \| 10 \| 4x \| 1 \|/);
  });
});
