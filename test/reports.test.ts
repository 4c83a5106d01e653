import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { COLLECTOR_NAMES } from '../lib/catalog.ts';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { repoRoot } from '../lib/paths.ts';
import { tmpDir, vc } from './helpers.ts';
import { REPORTS as REPORT_DEFS } from '../lib/report.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const REPORTS = Object.keys(REPORT_DEFS);
let demoEnv: NodeJS.ProcessEnv;

before(() => {
  const dir = tmpDir();
  demoEnv = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
  fs.writeFileSync(demoEnv.VC_CONFIG!, '');
  const r = vc(['demo', '--machines', '10', '--days', '1'], demoEnv);
  assert.equal(r.code, 0, r.stderr);
});

/** A report's --json on the demo fleet, run once per name (each vc spawn costs seconds under load). */
const demoReports = new Map<string, any>();
const json = (name: string, env = demoEnv) => {
  if (env === demoEnv && demoReports.has(name)) return structuredClone(demoReports.get(name));
  const r = vc(['report', name, '--json'], env);
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  if (env === demoEnv) demoReports.set(name, structuredClone(out));
  return out;
};

test('every report prints the robot envelope with --json and Markdown with --md', () => {
  for (const name of REPORTS) {
    const env = json(name);
    assert.deepEqual(Object.keys(env), ['schema_version', 'generated_at', 'data', 'staleness', 'warnings']);
    assert.equal(env.schema_version, `vc.${name}.v1`);
    assert.ok(Math.abs(Date.parse(env.generated_at) - Date.now()) < 60_000);
    assert.deepEqual(Object.keys(env.staleness).sort(), [...COLLECTOR_NAMES].sort());
    for (const v of Object.values(env.staleness)) assert.equal(typeof v, 'number');
    assert.deepEqual(env.warnings, []);
    const md = vc(['report', name, '--md'], demoEnv);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, new RegExp(`^# vc ${name} · \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\n`));
    const ages = [...COLLECTOR_NAMES].sort().map((s) => `${s} \\d+[smhd]+`).join(' · ');
    assert.match(md.stdout, new RegExp(`\\nData age: ${ages}\\n`));
  }
  assert.equal(vc(['report', 'triage', '--md', '--json'], demoEnv).code, 2);

  const unknown = vc(['report', 'nope'], demoEnv);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown report "nope"; reports: triage, health, machines, repos, agents/);
});

/** The schemas vc robot-docs prints, compiled, and a check of a value against one of them. */
function schemaChecker() {
  const r = vc(['robot-docs', 'schemas'], demoEnv);
  assert.equal(r.code, 0, r.stderr);
  const docs = JSON.parse(r.stdout);
  assert.equal(docs.schema_version, 'vc.robot-docs.v1');
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const check = (name: string, value: unknown) => {
    const validate = ajv.getSchema(`vc.${name}.v1`) ?? ajv.compile(docs.schemas[name]);
    assert.ok(validate(value), `${name}: ${ajv.errorsText(validate.errors)}`);
  };
  return { ajv, check };
}

test('every --json envelope validates against its schema from vc robot-docs schemas; a wrong one does not', () => {
  const { ajv, check } = schemaChecker();
  for (const name of REPORTS) check(name, json(name));
  const alerts = vc(['alerts', 'list', '--json', '--state', 'all'], demoEnv);
  check('alerts', JSON.parse(alerts.stdout));
  check('alert_rules', JSON.parse(vc(['alerts', 'rules', '--json'], demoEnv).stdout));
  // A schema that cannot fail proves nothing: a changed type, a missing and an unknown key are caught.
  const triage = json('triage');
  const validate = ajv.getSchema('vc.triage.v1')!;
  assert.ok(!validate({ ...triage, data: { ...triage.data, items: [{ ...triage.data.items[0], rank: 'first' }] } }));
  assert.ok(!validate({ ...triage, warnings: undefined }));
  assert.ok(!validate({ ...triage, data: { ...triage.data, extra: [] } }));
  // Examples are envelopes too, cut short.
  const ex = JSON.parse(vc(['robot-docs', 'examples', '--name', 'machines'], demoEnv).stdout);
  assert.equal(ex.examples.machines.command, 'vc report machines --json');
  check('machines', ex.examples.machines.output);
  assert.equal(vc(['robot-docs', 'schemas', '--name', 'nope'], demoEnv).code, 2);
});

test('triage finds every planted trouble, ranks crit first, and leaves the healthy machine alone', () => {
  // As of the demo's last sample: minutes after it (a loaded test machine) the healthy machine's
  // data would be late, truly.
  const end = JSON.parse(fs.readFileSync(path.join(demoEnv.VC_DATA_DIR!, 'state', 'demo.json'), 'utf8')).end as string;
  const r = vc(['report', 'triage', '--json', '--as-of', end], demoEnv);
  assert.equal(r.code, 0, r.stderr);
  const items = JSON.parse(r.stdout).data.items as Array<Record<string, any>>;
  const has = (machine: string, factor: string, severity: string) =>
    items.some((i) => i.machine_id === machine && i.factor_id === factor && i.severity === severity);
  assert.ok(has('demo-03', 'disk_used', 'crit'), 'disk filling up');
  assert.ok(has('demo-05', 'freshness', 'crit'), 'machine gone silent');
  assert.ok(has('demo-06', 'collector_failures', 'crit'), 'collector failing');
  assert.ok(has('demo-07', 'runaway_process', 'crit'), 'runaway process');
  assert.ok(has('demo-08', 'memory', 'crit'), 'memory pressure');
  assert.ok(has('demo-08', 'oom_kills', 'warn'), 'OOM kills');
  assert.ok(has('demo-02', 'dirty_repos', 'warn'), 'dirty repos');
  assert.ok(has('demo-09', 'dirty_repos', 'crit'), 'many dirty repos');
  assert.ok(has('demo-04', 'agent_dead', 'warn'), 'agents that exited');
  assert.ok(has('demo-04', 'agent_idle', 'warn'), 'an idle agent');
  assert.ok(has('demo-10', 'inotify_watches', 'warn'), 'inotify near its limit');
  assert.ok(!items.some((i) => i.machine_id === 'demo-01'), `demo-01 is healthy: ${JSON.stringify(items.filter((i) => i.machine_id === 'demo-01').map((i) => [i.factor_id, i.why]))}`);

  const silent = items.find((i) => i.machine_id === 'demo-05' && i.factor_id === 'freshness')!;
  // Its sources went quiet together: named once, with how long ago (all of them, or a list with sys).
  assert.match(silent.why, /^(all \d+ sources|[a-z, -]*\bsys\b[a-z, -]*) last collected (5h5\dm|6h\d*m?)( to \d+h\d*m?)? ago$/);
  assert.ok(silent.evidence.late.includes('sys'), JSON.stringify(silent.evidence.late));
  const disk = items.find((i) => i.factor_id === 'disk_used')!;
  assert.equal(disk.subject, '/data');
  assert.ok(disk.value >= 95, `disk at ${disk.value}%`);

  assert.deepEqual(items.map((i) => i.rank), items.map((_, k) => k + 1));
  const firstWarn = items.findIndex((i) => i.severity === 'warn');
  assert.ok(firstWarn > 0 && items.slice(firstWarn).every((i) => i.severity === 'warn'), 'crit before warn');
});

test('every vc command triage suggests runs as written', () => {
  const items = json('triage').data.items as Array<{ next: string[] }>;
  const commands = [...new Set(items.flatMap((i) => i.next))];
  assert.ok(commands.length >= 10, `${commands.length} distinct commands`);
  const bin = path.join(tmpDir(), 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(path.join(repoRoot, 'bin', 'vc'), path.join(bin, 'vc'));
  for (const cmd of commands) {
    assert.match(cmd, /^vc /);
    const r = spawnSync('sh', ['-c', cmd], { env: { ...process.env, ...demoEnv, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    assert.equal(r.status, 0, `${cmd}\n${r.stderr}`);
    assert.ok(r.stdout.length > 0, cmd);
  }
});

test('unknown values are null, never an invented 0', () => {
  const dir = tmpDir();
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml') };
  // Two configured machines; only `a` has ever been collected (just its sys).
  fs.writeFileSync(env.VC_CONFIG, '[[machines]]\nid = "a"\n\n[[machines]]\nid = "b"\n');
  assert.equal(vc(['collect', '--machine', 'a', '--source', 'sys'], env).code, 0);
  const machines = json('machines', env).data.machines as Array<Record<string, unknown>>;
  const b = machines.find((m) => m.machine_id === 'b')!;
  for (const k of ['load5', 'cpu_util', 'mem_total_bytes', 'worst_used_pct', 'repos', 'agents', 'last_ok_at', 'uptime_s']) {
    assert.equal(b[k], null, `b.${k}`);
  }
  const a = machines.find((m) => m.machine_id === 'a')!;
  assert.equal(typeof a.load5, 'number');
  assert.equal(a.repos, null, 'repos never collected on a: unknown, not 0');
  const health = json('health', env);
  assert.equal(health.staleness.repos, null);
  assert.ok(health.warnings.includes('no repos data has been collected yet'));
  const freshB = (health.data.factors as Array<Record<string, any>>).find((f) => f.machine_id === 'b' && f.factor_id === 'freshness')!;
  assert.equal(freshB.value, null);
  assert.equal(freshB.severity, 'crit');
});

test('on an empty data dir triage collects this machine first, says so on stderr, and tells the truth', () => {
  const dir = tmpDir();
  const home = path.join(dir, 'home');
  const repo = path.join(home, 'code', 'project');
  fs.mkdirSync(repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, {
    cwd: repo, encoding: 'utf8',
    env: { ...process.env, HOME: home, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'a.txt'), 'a\n');
  git('add', 'a.txt');
  git('commit', '-q', '-m', 'first \u001b[31mred\u001b[0m commit');
  fs.writeFileSync(path.join(repo, 'a.txt'), 'changed\n');
  fs.writeFileSync(path.join(repo, 'new.txt'), 'new\n');
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: path.join(dir, 'vc.toml'), HOME: home };
  fs.writeFileSync(env.VC_CONFIG, `[collectors.repos]\nroots = ["${path.join(home, 'code')}"]\n`);

  const r = vc(['report', 'triage', '--md'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no data in .* yet: collecting this machine first/);
  assert.match(r.stdout, /^# vc triage/);
  const n = COLLECTOR_NAMES.length;
  assert.match(r.stdout, new RegExp(`Warning: no data was stored yet, so vc collected the local machine first \\(${n} of ${n} collectors ok\\)`));

  // Cross-check what was stored against the machine itself.
  const machine = json('machines', env).data.machines[0];
  const memTotal = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  assert.equal(machine.mem_total_bytes, memTotal);
  const fs0 = json('machines', env).data.filesystems as Array<Record<string, any>>;
  const df = execFileSync('df', ['-P', '-k', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!.split(/\s+/);
  assert.equal(fs0.find((f) => f.mount === df[5])!.size_bytes, Number(df[1]) * 1024);
  const repos = json('repos', env).data.repos as Array<Record<string, any>>;
  assert.equal(repos.length, 1);
  const porcelain = git('status', '--porcelain').trim().split('\n');
  assert.equal(repos[0]!.dirty_files, porcelain.filter((l) => !l.startsWith('??')).length);
  assert.equal(repos[0]!.untracked_files, porcelain.filter((l) => l.startsWith('??')).length);
  assert.equal(repos[0]!.state, 'dirty');

  // Hostile text reaches the JSON intact and the Markdown stripped of escapes.
  assert.equal(repos[0]!.last_commit_subject, 'first \u001b[31mred\u001b[0m commit');
  const md = vc(['report', 'repos', '--md'], env).stdout;
  assert.ok(md.includes('first red commit') && !md.includes('\u001b'), md);
});

test('a report that reads only some recent windows or histories answers as it would with all of them', async () => {
  const { REPORTS: ALL, runReportQueries, reportContext } = await import('../lib/report.ts');
  const { open } = await import('../lib/cli/common.ts');
  const { loadConfig } = await import('../lib/config.ts');
  const loaded = loadConfig(demoEnv.VC_CONFIG);
  const at = new Date();
  const answer = async (name: string, recent: readonly string[] | undefined, history?: readonly string[]) => {
    const session = await open({ ...loaded, dataDir: demoEnv.VC_DATA_DIR! }, { now: at, recent, history });
    try {
      const windows = await session.query(`SELECT (SELECT count(*) FROM claude_logs_recent) AS claude, (SELECT count(*) FROM collector_runs_recent) AS runs`);
      return { windows: windows[0], data: await runReportQueries(name, session, {}), ctx: await reportContext(session, at, []) };
    } finally {
      session.close();
    }
  };
  let checked = 0;
  for (const [name, load] of Object.entries(ALL)) {
    const report = (await load()).default;
    if (report.history) {
      const full = await answer(name, report.recent);
      assert.deepEqual(await answer(name, report.recent, report.history), full, `${name}: the same answer with only its histories listed`);
      checked++;
    }
    if (!report.recent) continue;
    const full = await answer(name, undefined);
    const some = await answer(name, report.recent);
    assert.ok(Number(full.windows!.claude) > 0 && Number(full.windows!.runs) > 0, 'the demo has rows in the windows left out');
    if (!report.recent.includes('claude-logs')) assert.equal(some.windows!.claude, 0, `${name} leaves out the Claude window`);
    assert.deepEqual(some.data, full.data, `${name}: the same data`);
    assert.deepEqual(some.ctx, full.ctx, `${name}: the same staleness and warnings`);
    checked++;
  }
  assert.ok(checked > 1);

  // A history the session did not list is not read as empty: reading it fails, naming it.
  const session = await open({ ...loaded, dataDir: demoEnv.VC_DATA_DIR! }, { now: at, recent: [], history: ['sys'] });
  try {
    assert.ok(Number((await session.query('SELECT count(*) AS n FROM sys'))[0]!.n) > 0);
    await assert.rejects(session.query('SELECT count(*) FROM agents'), /history-of-agents-not-listed-by-this-command/);
  } finally {
    session.close();
  }
});

// (Last: the checks before it read the demo fleet while its data is fresh.)
test('vc incident list/show/replay --json and vc watch\'s records validate against their schemas; wrong ones do not', () => {
  const { ajv, check } = schemaChecker();
  // Incidents: the list, one with its timeline (show and replay print the same envelope) and the
  // factors that changed around it: a snapshot now, and an older picture without demo-03's factors.
  const snap = vc(['snapshot', '--json'], demoEnv);
  assert.equal(snap.code, 0, snap.stderr);
  const earlier = new Date(Date.now() - 2 * 3600_000).toISOString();
  fs.appendFileSync(path.join(demoEnv.VC_DATA_DIR!, 'state', 'snapshots.jsonl'),
    JSON.parse(snap.stdout).map((l: any) => `${JSON.stringify({ ...l, ts: earlier, factors: l.machine_id === 'demo-03' ? [] : l.factors })}\n`).join(''));
  const opened = vc(['incident', 'open', 'demo-03 disk filling', '--machine', 'demo-03', '--json'], demoEnv);
  assert.equal(opened.code, 0, opened.stderr);
  const id = JSON.parse(opened.stdout).incident_id as string;
  assert.equal(vc(['incident', 'note', id, 'moved the build cache'], demoEnv).code, 0);
  check('incidents', JSON.parse(vc(['incident', 'list', '--json'], demoEnv).stdout));
  for (const cmd of ['show', 'replay']) {
    const detail = JSON.parse(vc(['incident', cmd, id, '--json'], demoEnv).stdout);
    assert.ok(detail.data.timeline.length >= 2 && detail.data.changes.length > 0, 'a timeline and changes to check');
    check('incident', detail);
  }
  const incidentSchema = ajv.getSchema('vc.incident.v1')!;
  const detail = JSON.parse(vc(['incident', 'show', id, '--json'], demoEnv).stdout);
  assert.ok(!incidentSchema({ ...detail, data: { ...detail.data, incident: { ...detail.data.incident, notes: 'one' } } }));
  assert.ok(!incidentSchema({ ...detail, data: { ...detail.data, timeline: [{ ...detail.data.timeline[0], ts: 'noon' }] } }));
  // vc watch's records: two reads, so unchanged items come again as current.
  const watch = vc(['watch', '--format', 'jsonl', '--count', '2', '--interval', '1'], demoEnv);
  assert.equal(watch.code, 0, watch.stderr);
  const records = watch.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual([...new Set(records.map((r) => `${r.type} ${r.event}`))].sort(), [
    'alert current', 'alert open', 'health_change change', 'opportunity current', 'opportunity new', 'prediction current', 'prediction new']);
  for (const r of records) check('watch', r);
  const watchSchema = ajv.getSchema('vc.watch.v1')!;
  const alert = records.find((r) => r.type === 'alert');
  assert.ok(!watchSchema({ ...alert, event: 'change' }), 'an alert has no change event');
  assert.ok(!watchSchema({ ...alert, from: 'ok' }), 'only a health_change has from');
  assert.ok(!watchSchema({ ...alert, detail: { ...alert.detail, rule_id: 7 } }), 'detail is typed');
  const more = JSON.parse(vc(['robot-docs', 'examples', '--name', 'watch'], demoEnv).stdout).examples.watch;
  assert.equal(more.command, 'vc watch --format jsonl --count 1');
  assert.equal(more.output.length, 2);
  for (const r of more.output) check('watch', r);
});
