// dcg: its recorded outputs and stores (fixtures/dcg, after ../shared/upstream/dcg.md) parsed into
// items; pending_exceptions.jsonl tailed through a torn line, a rewrite in place and a rotation;
// the history paged back in time; collected end to end through a fake dcg on PATH (locally and on
// a real sshd); and the views over what was stored: given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCollector, type CollectContext, type Item } from '../lib/collector.ts';
import { loadConfig, validateConfig } from '../lib/config.ts';
import { dcgCollector, dcgSchema, exportCommand, historyItems, historyPage, pendingFact, pruneSeen, type DcgItem } from '../lib/sources/dcg.ts';
import { openSession, type Session } from '../lib/duck.ts';
import { reportContext, runReportQueries } from '../lib/report.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { repoRoot } from '../lib/paths.ts';
import { fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls, writeExecutable } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const FIX = path.join(repoRoot, 'fixtures', 'dcg');
const fixture = (name: string) => {
  const read = (ext: string) => (fs.existsSync(path.join(FIX, `${name}.history.${ext}`)) ? fs.readFileSync(path.join(FIX, `${name}.history.${ext}`), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const pendingLines = (name: string) => fs.readFileSync(path.join(FIX, 'pending', name), 'utf8').split('\n').filter(Boolean);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const data = (items: Item[]) => items.map((i) => withNulls(dcgSchema, i.data as Record<string, unknown>));

describe('dcg history export --format jsonl, parsed', () => {
  test('rows newest first become history items: rule, outcome, cwd, the command as its SHA-256, never its text', () => {
    const page = historyItems(fixture('default'));
    assert.ok('items' in page);
    assert.equal(page.rows, 6);
    assert.equal(page.newest, '2026-08-20T15:31:09.870Z');
    assert.equal(page.oldest, '2026-08-20T13:58:10.007Z');
    for (const i of page.items) dcgSchema.parse(i.data);
    const [rmrf, , warn, reset, allow, allowlisted] = data(page.items);
    assert.deepEqual(reset, withNulls(dcgSchema, {
      type: 'history', ts: '2026-08-20T14:03:07.412Z', outcome: 'deny', rule_id: 'core.git:reset-hard', pack_id: 'core.git',
      pattern_name: 'reset-hard', cwd: '/data/projects/web', command_hash: sha256('git reset --hard HEAD~3'),
      agent_type: 'claude_code', session_id: 'ses-9f2c41d07ab3e615', eval_duration_us: 412,
    }));
    assert.equal(rmrf!.rule_id, 'core.filesystem:rm-rf-root-home');
    assert.deepEqual([warn!.outcome, warn!.rule_id], ['warn', 'core.git:stash-drop']);
    assert.deepEqual([allow!.outcome, allow!.rule_id, allow!.ts], ['allow', null, '2026-08-20T14:02:55.000Z']);
    assert.deepEqual([allowlisted!.outcome, allowlisted!.allowlist_layer], ['allow', 'project']);
    const stored = JSON.stringify(page.items);
    for (const text of ['git reset --hard HEAD~3', 'DROP TABLE users', 'rm -rf ./build']) assert.ok(!stored.includes(text), `no command text: ${text}`);
    assert.equal(new Set(page.items.map((i) => i.key)).size, 6, 'one key per row');
    const again = historyItems(fixture('default'));
    assert.deepEqual('items' in again ? again.items.map((i) => i.key) : [], page.items.map((i) => i.key), 'the same row, the same key');
  });

  test('a later dcg: bypass outcome, extra fields and keys, long fractions, a row with pack and pattern only', () => {
    const page = historyItems(fixture('variant'));
    assert.ok('items' in page);
    const [bypass, kubectl, ls] = data(page.items);
    assert.deepEqual([bypass!.outcome, bypass!.ts, bypass!.exit_code, bypass!.bypass_code, bypass!.agent_type],
      ['bypass', '2026-08-21T09:15:00.123Z', 0, '482913', 'codex']);
    assert.equal(kubectl!.rule_id, 'kubernetes.kubectl:delete-namespace', 'rule id made of pack and pattern');
    assert.equal(kubectl!.command_hash, sha256('[REDACTED]'));
    assert.equal(kubectl!.session_id, null);
    assert.equal(ls!.ts, '2026-08-21T09:14:58.000Z');
  });

  test('no rows, and history disabled (a non-JSON line on stdout, exit 0), are answers, not errors', () => {
    assert.deepEqual(historyItems(fixture('empty')), { items: [], rows: 0, oldest: null, newest: null });
    assert.deepEqual(historyItems(fixture('disabled')), { unavailable: 'Error opening history database: History is disabled' });
  });

  test('errors name the command and what it said', () => {
    assert.throws(() => historyItems(fixture('badsince')), /dcg history export exited 1: "Error: Invalid since datetime: 24h/);
    assert.throws(() => historyItems(fixture('oldcli')), /dcg history export exited 2: "error: unexpected argument/);
    assert.throws(() => historyItems(fixture('garbage')), /did not print JSON lines: line 1 is "dcg: history database is locked/);
    assert.throws(() => historyItems(fixture('wrongshape')), /\(line 1\) printed JSON of an unexpected shape: eval_duration_us/);
    assert.throws(() => historyItems({ stdout: '{"timestamp":"later","agent_type":"a","working_dir":"/","command":"x","outcome":"deny","eval_duration_us":1}', stderr: '', rc: 0 }),
      /timestamp that is not a time/);
    assert.throws(() => historyItems({ stdout: '', stderr: '', rc: 124 }), /did not answer in time/);
  });

  test('the export command carries only plain times, and cuts its output at the byte budget keeping dcg\'s status', () => {
    const cmd = exportCommand({ since: '2026-08-20T14:03:07.412Z', until: null, newest: null }, 5000, 1000);
    assert.match(cmd, /\{ "\$VC_TOOL" history export --format jsonl --since 2026-08-20T14:03:07\.412Z --limit 5000; echo "\$\?" > "\$vc_rc"; \} \| head -c 1001\n/);
    assert.match(exportCommand({ since: '2026-08-20T14:03:07.412Z', until: '2026-08-20T15:00:00.001Z', newest: null }, 3, 10), /--until 2026-08-20T15:00:00\.001Z --limit 3;/);
    assert.throws(() => exportCommand({ since: '2026-08-20; rm -rf /', until: null, newest: null }, 1, 10), /not a plain time/);
    // The step itself, with a stand-in dcg: its status comes through the cut.
    const step = (dcg: string, budget: number) => {
      const dir = tmpDir('vc-dcg-step-');
      writeExecutable(dir, 'dcg', `#!/bin/sh\n${dcg}\n`);
      const sh = `VC_TOOL=${dir}/dcg; export VC_TOOL; sh -c '${exportCommand({ since: '2026-08-20T00:00:00.000Z', until: null, newest: null }, 9, budget).replace(/'/g, `'\\''`)}'; echo " rc=$?"`;
      return execFileSync('sh', ['-c', sh], { encoding: 'utf8' });
    };
    assert.equal(step('echo "Error: Invalid since datetime" >&2; exit 1', 100), ' rc=1\n');
    assert.equal(step('printf \'{"a":1}\\n\'', 100), '{"a":1}\n rc=0\n');
    assert.equal(step('yes \'{"timestamp":"x"}\'', 30), '{"timestamp":"x"}\n{"timestamp":' + ' rc=141\n');
  });

  test('a page cut at the byte budget keeps its whole lines and says more may be left', () => {
    const out = fixture('default').stdout;
    const budget = out.indexOf('\n', 800);
    const page = historyPage({ stdout: out.slice(0, budget + 1 + 1), stderr: '', rc: 141 }, 5000, budget);
    assert.ok('items' in page);
    assert.deepEqual([page.rows, page.full, page.oldest], [out.slice(0, budget).split('\n').length, true, '2026-08-20T14:40:12.300Z']);
    const whole = historyPage(fixture('default'), 5000, 1 << 20);
    assert.ok('items' in whole);
    assert.deepEqual([whole.rows, whole.full], [6, false]);
    assert.equal((historyPage(fixture('default'), 6, 1 << 20) as { full: boolean }).full, true, 'as many rows as asked: more may be left');
    assert.throws(() => historyPage({ stdout: `{"timestamp":"${'x'.repeat(200)}`, stderr: '', rc: 141 }, 10, 100), /a row of more than 100 bytes/);
  });
});

describe('pending_exceptions.jsonl records, parsed', () => {
  test('a record is a deny: rule id split off the reason, consumed time, dcg\'s full_hash; no command text', () => {
    const [r1, r2] = pendingLines('default.jsonl').map(pendingFact) as DcgItem[];
    const raw = JSON.parse(pendingLines('default.jsonl')[0]!);
    assert.deepEqual(r1, withNulls(dcgSchema, {
      type: 'pending', ts: '2026-08-20T14:03:07.000Z', outcome: 'deny', rule_id: 'core.git:reset-hard', pack_id: 'core.git', pattern_name: 'reset-hard',
      reason: 'git reset --hard destroys uncommitted changes', cwd: '/data/projects/web', command_hash: sha256('git reset --hard HEAD~3'),
      full_hash: raw.full_hash, short_code: '40917', expires_at: '2026-08-21T14:03:07.000Z', match_source: 'Pack', record_version: 1,
    }));
    assert.equal(r2!.consumed_at, '2026-08-20T15:12:02.000Z');
    assert.equal(r2!.short_code, '802113');
    assert.ok(!JSON.stringify([r1, r2]).includes('HEAD~3'));
  });

  test('a reason without a rule, a record without source; torn lines and other shapes are skipped with a reason', () => {
    const facts = pendingLines('variant.jsonl').map(pendingFact);
    assert.equal((facts[0] as DcgItem).match_source, null);
    assert.equal((facts[0] as DcgItem).rule_id, 'core.git:clean-force');
    assert.deepEqual(facts.slice(1, 4), ['not a JSON object (dcg counts these as parse errors)', 'not a JSON object (dcg counts these as parse errors)', 'not a dcg pending-exception record']);
    const heredoc = pendingFact(fs.readFileSync(path.join(FIX, 'pending', 'rewritten.jsonl'), 'utf8').split('\n')[2]!) as DcgItem;
    assert.deepEqual([heredoc.rule_id, heredoc.reason, heredoc.match_source], [null, 'Heredoc script deletes a directory tree', 'HeredocAst']);
    assert.equal(pendingFact(pendingLines('torn.jsonl')[2]!), 'not a JSON object (dcg counts these as parse errors)');
  });
});

/** A collector context that runs scripts with the local sh (PATH given) and records the commits. */
function localCtx(toml: Record<string, unknown>, cursor: unknown, PATH: string, maxBytes = 16 << 20) {
  const config = validateConfig({ collectors: { dcg: toml } }, '(test)');
  const commits: Array<{ items: Item[]; cursor: any }> = [];
  const warnings: string[] = [];
  const clock = { left: 60_000 };
  const ctx = {
    machine: config.machines[0], config, runId: 'r', cursor, limits: { timeoutMs: 60_000, maxBytes },
    warn: (m: string) => warnings.push(m),
    run: async (_what: string, script: string) => ({ stdout: execFileSync('sh', ['-s'], { input: script, env: { ...process.env, PATH }, encoding: 'utf8' }) }),
    commit: async (items: Item[], c: unknown) => { commits.push({ items, cursor: JSON.parse(JSON.stringify(c)) }); },
    timeLeftMs: () => clock.left,
  } as unknown as CollectContext;
  return { ctx, commits, warnings, clock, items: () => commits.flatMap((c) => c.items), cursor: () => commits.at(-1)?.cursor };
}

/** A history row at minute `i` after 10:00 (times with milliseconds, so text order is time order). */
const row = (i: number) => JSON.stringify({
  timestamp: new Date(Date.parse('2026-08-20T10:00:00.000Z') + i * 60_000 + 5).toISOString(), agent_type: 'claude_code',
  working_dir: '/w', command: `echo ${i}`, outcome: i % 2 ? 'deny' : 'allow', ...(i % 2 ? { pack_id: 'core.git', pattern_name: 'reset-hard', rule_id: 'core.git:reset-hard' } : {}),
  eval_duration_us: i, session_id: `ses-${i}`,
});

/** A fake dcg whose history export answers from a rows file as dcg does: since inclusive, until exclusive, newest first, limit. */
function pagingDcg(dir: string) {
  const rows = path.join(dir, 'rows.jsonl');
  const calls = path.join(dir, 'calls');
  fs.writeFileSync(calls, '');
  writeExecutable(dir, 'dcg', `#!/bin/sh
echo "$*" >> '${calls}'
since=; until=; limit=
while [ $# -gt 0 ]; do case $1 in --since) since=$2; shift ;; --until) until=$2; shift ;; --limit) limit=$2; shift ;; esac; shift; done
awk -v s="$since" -v u="$until" -v n="$limit" '{ if (match($0, /"timestamp":"[^"]*"/)) { t = substr($0, RSTART + 13, RLENGTH - 14); if (t >= s && (u == "" || t < u)) { print; c++; if (n != "" && c >= n + 0) exit } } }' '${rows}'
`);
  return {
    setRows: (ids: number[]) => fs.writeFileSync(rows, [...ids].sort((a, b) => b - a).map(row).join('\n') + '\n'),
    calls: () => fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean),
  };
}

describe('dcg history, paged', () => {
  test('a backlog is read back in pages of --limit rows with --until, then what came since; the cursor moves to the newest row', async () => {
    const dir = tmpDir('vc-dcg-page-');
    const fake = pagingDcg(dir);
    fake.setRows([1, 2, 3, 4, 5, 6, 7]);
    const PATH = `${dir}:${process.env.PATH}`;
    const cfg = { dir: path.join(dir, 'nodcg'), history_page_rows: 3, history_days: 1 };
    const first = localCtx(cfg, { history: { since: '2026-08-20T10:00:00.000Z', until: null, newest: null } }, PATH);
    await dcgCollector.collect(first.ctx);
    const keys = new Set(first.items().map((i) => i.key));
    assert.equal(keys.size, 7, 'every row once at least');
    assert.deepEqual(fake.calls(), [
      'history export --format jsonl --since 2026-08-20T10:00:00.000Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:00:00.000Z --until 2026-08-20T10:05:00.006Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:00:00.000Z --until 2026-08-20T10:03:00.006Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:00:00.000Z --until 2026-08-20T10:01:00.006Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:07:00.005Z --limit 3',
    ]);
    assert.deepEqual(first.cursor().history, { since: '2026-08-20T10:07:00.005Z', until: null, newest: '2026-08-20T10:07:00.005Z' });
    assert.deepEqual(first.cursor().rules, { 'core.git:reset-hard': '2026-08-20T10:01:00.005Z' });
    assert.ok(first.items().filter((i) => (i.data as DcgItem).rule_id).every((i) => (i.data as DcgItem).rule_first_seen_at !== null));

    // Four more rows; this run has time for one page only: the range left is saved, and the next run reads it, then what is new.
    fake.setRows([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const short = localCtx(cfg, first.cursor(), PATH);
    const origCommit = short.ctx.commit;
    short.ctx.commit = async (items, c) => { await origCommit(items, c); short.clock.left = 1000; };
    await dcgCollector.collect(short.ctx);
    assert.deepEqual(short.cursor().history, { since: '2026-08-20T10:07:00.005Z', until: '2026-08-20T10:09:00.006Z', newest: '2026-08-20T10:11:00.005Z' });
    assert.ok(short.warnings.some((w) => /read dcg's history partly \(1 page this run\)/.test(w)), short.warnings.join('\n'));
    const third = localCtx(cfg, short.cursor(), PATH);
    await dcgCollector.collect(third.ctx);
    const all = new Set([...keys, ...short.items().map((i) => i.key), ...third.items().map((i) => i.key)]);
    assert.equal(all.size, 11, 'every row of the backlog and of the head read');
    assert.deepEqual(third.cursor().history, { since: '2026-08-20T10:11:00.005Z', until: null, newest: '2026-08-20T10:11:00.005Z' });
    // The backlog [10:07, 10:09.006) holds a full page (rows 9, 8, 7): one more page for row 7, then the head.
    assert.deepEqual(fake.calls().slice(-3), [
      'history export --format jsonl --since 2026-08-20T10:07:00.005Z --until 2026-08-20T10:09:00.006Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:07:00.005Z --until 2026-08-20T10:07:00.006Z --limit 3',
      'history export --format jsonl --since 2026-08-20T10:11:00.005Z --limit 3',
    ]);
  });
});

describe('dcg history, paged by size', () => {
  test('pages of long rows are cut at the byte budget and read on below their oldest row', async () => {
    const dir = tmpDir('vc-dcg-page-');
    const fake = pagingDcg(dir);
    fake.setRows([1, 2, 3, 4, 5, 6, 7]);
    const rowBytes = row(1).length + 1;
    // Room for three rows a page (the budget is 3/4 of the output cap).
    const c = localCtx({ dir: path.join(dir, 'nodcg'), history_page_rows: 100 }, { history: { since: '2026-08-20T10:00:00.000Z', until: null, newest: null } },
      `${dir}:${process.env.PATH}`, Math.ceil((rowBytes * 3.5) / 0.75));
    await dcgCollector.collect(c.ctx);
    assert.equal(new Set(c.items().map((i) => i.key)).size, 7);
    // Page 1 holds rows 7 to 4 whole (allow rows are shorter) and a part of row 3; page 2 the rest; then the head.
    assert.deepEqual(fake.calls().map((x) => /--until (\S+)/.exec(x)?.[1] ?? null), [null, '2026-08-20T10:04:00.006Z', null]);
    assert.deepEqual(c.cursor().history, { since: '2026-08-20T10:07:00.005Z', until: null, newest: '2026-08-20T10:07:00.005Z' });
  });
});

describe('pending_exceptions.jsonl, tailed', () => {
  test('a torn last line waits for its newline; a rewrite in place stores only what changed; a rotation stores nothing again', async () => {
    const dir = tmpDir('vc-dcg-pending-');
    const dcgDir = path.join(dir, 'dcg');
    fs.mkdirSync(dcgDir);
    const file = path.join(dcgDir, 'pending_exceptions.jsonl');
    const run = async (cursor: unknown) => {
      // No dcg on PATH: only the pending files are read.
      const c = localCtx({ dir: dcgDir }, cursor, '/usr/bin:/bin');
      const out = await dcgCollector.collect(c.ctx);
      return { ...c, out, codes: c.items().map((i) => `${(i.data as DcgItem).short_code}${(i.data as DcgItem).consumed_at ? '+consumed' : ''}`) };
    };
    fs.copyFileSync(path.join(FIX, 'pending', 'torn.jsonl'), file);
    const a = await run(null);
    assert.deepEqual(a.codes, ['40917', '802113']);
    assert.equal(a.out.absent, undefined);
    assert.ok(a.warnings.some((w) => /dcg is not installed here.*its history is not read/.test(w)), a.warnings.join('\n'));

    // dcg finishes the line: the record is read once, whole.
    const at = '2026-08-20T16:00:00Z';
    const rest = `204","full_hash":"${sha256(`${at} | /w | git push -f`)}","created_at":"${at}","expires_at":"2026-08-21T16:00:00Z","cwd":"/w","command_raw":"git push -f","command_redacted":"git push -f","reason":"core.git:push-force-short - Force push can destroy remote history","single_use":false,"consumed_at":null,"source":"Pack"}\n`;
    fs.appendFileSync(file, rest);
    const b = await run(a.cursor());
    assert.deepEqual(b.codes, ['113204']);
    assert.deepEqual(b.warnings.filter((w) => /skipped/.test(w)), [], 'the torn line was never read as garbage');

    // dcg rewrites the file in place (same inode): the expired record goes, one is consumed, one is new.
    const inode = fs.statSync(file).ino;
    fs.writeFileSync(file, fs.readFileSync(path.join(FIX, 'pending', 'rewritten.jsonl')));
    assert.equal(fs.statSync(file).ino, inode);
    const c = await run(b.cursor());
    assert.deepEqual(c.codes, ['802113+consumed', '551022', '913377']);

    // A newer dcg rotates: its oldest half goes to pending_exceptions.jsonl.1, the rest is rewritten.
    fs.copyFileSync(path.join(FIX, 'pending', 'rotated.jsonl.1'), `${file}.1`);
    fs.writeFileSync(file, fs.readFileSync(path.join(FIX, 'pending', 'rotated.jsonl')));
    const d = await run(c.cursor());
    assert.deepEqual(d.codes, [], 'every record is already stored as it is');
    assert.deepEqual(Object.keys(d.cursor().pending).sort(), [file, `${file}.1`]);
    // The rules first seen on this machine, remembered across runs.
    assert.deepEqual(d.cursor().rules, {
      'core.git:reset-hard': '2026-08-20T14:03:07.000Z', 'database.postgresql:drop-table': '2026-08-20T15:10:44.000Z',
      'core.git:push-force-short': '2026-08-20T16:00:00.000Z', 'core.filesystem:rm-rf-root-home': '2026-08-20T15:31:09.000Z',
    });
  });

  test('what is remembered of pending records is dropped a day after the newest one expires', () => {
    const seen = { a: '2026-08-21T14:03:07.000Z|0', b: '2026-08-23T15:00:00.000Z|1', c: '2026-08-22T15:00:00.000Z|0', d: 'garbage|0' };
    pruneSeen(seen);
    assert.deepEqual(seen, { b: '2026-08-23T15:00:00.000Z|1', c: '2026-08-22T15:00:00.000Z|0' });
  });

  test('skipped lines are counted by reason; no dcg and no config dir is absent', async () => {
    const dir = tmpDir('vc-dcg-pending-');
    fs.copyFileSync(path.join(FIX, 'pending', 'variant.jsonl'), path.join(dir, 'pending_exceptions.jsonl'));
    const c = localCtx({ dir }, null, '/usr/bin:/bin');
    await dcgCollector.collect(c.ctx);
    assert.deepEqual(c.items().map((i) => (i.data as DcgItem).short_code), ['12345', '551022']);
    assert.ok(c.warnings.some((w) => /^skipped 2 lines: not a JSON object/.test(w)), c.warnings.join('\n'));
    assert.ok(c.warnings.some((w) => /^skipped 1 line: not a dcg pending-exception record/.test(w)), c.warnings.join('\n'));
    const none = localCtx({ dir: path.join(dir, 'nope') }, null, '/usr/bin:/bin');
    const out = await dcgCollector.collect(none.ctx);
    assert.match(out.absent ?? '', /^nothing of dcg here: no dcg config dir here \(.*nope\); dcg is not installed here/);
  });
});

/** A temp setup for vc collect --source dcg with a fake dcg first on PATH and a dcg config dir. */
function setup(extra = '') {
  const dir = tmpDir('vc-dcg-');
  const bin = path.join(dir, 'bin');
  const dcgDir = path.join(dir, 'dcgconf');
  fs.mkdirSync(bin);
  fs.mkdirSync(dcgDir);
  const dcg = fakeTool(bin, 'dcg');
  const conf = path.join(dir, 'vc.toml');
  const toml = (more: string) => fs.writeFileSync(conf, `[collectors.dcg]\ndir = ${JSON.stringify(dcgDir)}\nstep_timeout_seconds = 1\n${more}`);
  toml(extra);
  const env = { VC_DATA_DIR: path.join(dir, 'data'), VC_CONFIG: conf, PATH: `${bin}:${process.env.PATH}` };
  const collect = () => vc(['collect', '--source', 'dcg', '--json'], env);
  /** The same run in this process (the harness vc collect runs, without a process to start). */
  const collectHere = async () => {
    const { config } = loadConfig(conf);
    const path0 = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      return await runCollector(dcgCollector, { config, dataDir: env.VC_DATA_DIR, machine: config.machines[0]! });
    } finally {
      process.env.PATH = path0;
    }
  };
  const lastRun = () => readRaw(env.VC_DATA_DIR, 'collector_runs', 'local').at(-1)!.data;
  return { dir, bin, dcg, dcgDir, env, toml, collect, collectHere, lastRun, rows: () => readRaw(env.VC_DATA_DIR, 'dcg', 'local') };
}

describe('vc collect --source dcg', () => {
  test('reads pending_exceptions.jsonl and the history; stores hashes, never command text; a deny in both counts once in the views', async () => {
    const s = setup();
    fs.copyFileSync(path.join(FIX, 'pending', 'default.jsonl'), path.join(s.dcgDir, 'pending_exceptions.jsonl'));
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'ok');
    assert.equal(s.lastRun().rows, 9);
    const [call] = s.dcg.calls();
    assert.deepEqual(call!.slice(0, 4), ['history', 'export', '--format', 'jsonl']);
    assert.equal(call![4], '--since');
    assert.ok(Math.abs(Date.parse(call![5]!) - (Date.now() - 7 * 86400_000)) < 120_000, `a first read goes 7 days back: ${call![5]}`);
    assert.deepEqual(call!.slice(6), ['--limit', '5000']);
    assert.deepEqual(s.rows().map((l) => [l.kind, l.data.type]).filter(([, t]) => t === 'pending').length, 3);
    const stored = fs.readFileSync(path.join(s.env.VC_DATA_DIR, 'raw', 'dcg', 'machine=local', fs.readdirSync(path.join(s.env.VC_DATA_DIR, 'raw', 'dcg', 'machine=local'))[0]!), 'utf8');
    for (const text of ['HEAD~3', 'DROP TABLE users', 'rm -rf ~/', 'rm -rf ./build', 'git status']) assert.ok(!stored.includes(text), `no command text stored: ${text}`);

    // Again: the history's newest row is re-read (--since is inclusive), the pending file has nothing new.
    assert.equal((await s.collectHere()).status, 'ok');
    assert.equal(s.dcg.calls()[1]![5], '2026-08-20T15:31:09.870Z');
    const session = await openSession({ dataDir: s.env.VC_DATA_DIR });
    try {
      const events = await session.query('SELECT origin, outcome, rule_id, severity FROM v1.dcg_events ORDER BY ts DESC');
      assert.deepEqual(events, [
        { origin: 'history', outcome: 'deny', rule_id: 'core.filesystem:rm-rf-root-home', severity: 'critical' },
        { origin: 'history', outcome: 'deny', rule_id: 'database.postgresql:drop-table', severity: 'high' },
        { origin: 'history', outcome: 'warn', rule_id: 'core.git:stash-drop', severity: 'medium' },
        { origin: 'history', outcome: 'deny', rule_id: 'core.git:reset-hard', severity: 'critical' },
        { origin: 'history', outcome: 'allow', rule_id: null, severity: null },
        { origin: 'history', outcome: 'allow', rule_id: 'core.filesystem:rm-rf-general', severity: 'high' },
      ]);
    } finally {
      session.close();
    }
  });

  test('dcg with its history off, or not installed: the pending file is still read; neither there is absent', async () => {
    const s = setup();
    s.dcg.use('disabled');
    fs.copyFileSync(path.join(FIX, 'pending', 'default.jsonl'), path.join(s.dcgDir, 'pending_exceptions.jsonl'));
    const off = await s.collectHere();
    assert.equal(off.status, 'ok');
    assert.equal(off.rows, 3);
    assert.match(off.warnings.join('\n'), /dcg's history is not read here \(Error opening history database: History is disabled\)/);
    fs.rmSync(s.dcg.path);
    fs.rmSync(s.dcgDir, { recursive: true });
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^nothing of dcg here: no dcg config dir here/);
  });

  test('garbage, a wrong shape, an error exit or a hang is a recorded error, and nothing is stored', async () => {
    const s = setup();
    s.dcg.use('garbage');
    assert.equal(s.collect().code, 1);
    for (const [c, why] of [['garbage', /did not print JSON lines/], ['wrongshape', /unexpected shape/], ['badsince', /exited 1/], ['hang', /did not answer in time/]] as const) {
      s.dcg.use(c);
      const t0 = Date.now();
      if (c !== 'garbage') await s.collectHere();
      assert.ok(Date.now() - t0 < 10_000, `${c}: took ${Date.now() - t0} ms`);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, /dcg history export/, c);
      assert.match(s.lastRun().error, why, c);
      assert.deepEqual(s.rows(), [], `${c}: nothing stored`);
    }
  });
});

describe('dcg over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    for (const d of [s.dir, s.bin, s.dcgDir]) fs.chmodSync(d, 0o755);
    fs.copyFileSync(path.join(FIX, 'pending', 'torn.jsonl'), path.join(s.dcgDir, 'pending_exceptions.jsonl'));
    fs.chmodSync(path.join(s.dcgDir, 'pending_exceptions.jsonl'), 0o644);
    sshd = await startSshdWithPath(s.bin);
    s.toml(farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    const r = vc(['collect', '--source', 'dcg', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'dcg', 'far');
    assert.deepEqual(rows.map((l) => [l.data.type, l.data.short_code ?? l.data.outcome]),
      [['pending', '40917'], ['pending', '802113'], ['history', 'deny'], ['history', 'deny'], ['history', 'warn'], ['history', 'deny'], ['history', 'allow'], ['history', 'allow']]);
  });
});

describe('dcg views: given rows, expected rows', () => {
  const NOW = new Date('2026-11-24T12:00:00Z');
  let seq = 0;
  const store = async (dir: string, machine: string, at: string, items: Array<Record<string, unknown>>, status = 'ok') => {
    const run = `r-${++seq}`;
    const envs: Envelope[] = items.map(({ key, ...d }, i) => ({
      v: 1, source: 'dcg', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', data: storable(dcgSchema.parse(withNulls(dcgSchema, d))) as Record<string, unknown>, key: String(key ?? `${run}-${i}`),
    }));
    await appendEnvelopes(dir, envs);
    await appendEnvelopes(dir, [{
      v: 1, source: 'collector_runs', machine_id: machine, collected_at: at, run_id: run, collector_version: '1.0.0', schema_version: 1,
      kind: 'event', key: run, data: { source: 'dcg', started_at: at, ended_at: at, duration_ms: 1, bytes: 1, rows: items.length, status, error: null, warnings: [] },
    }]);
  };
  const h = (ts: string, outcome: string, rule: string | null, more: Record<string, unknown> = {}) => {
    const [pack, pattern] = rule ? rule.split(':') : [null, null];
    return { key: `h-${ts}-${rule}`, type: 'history', ts, outcome, rule_id: rule, pack_id: pack, pattern_name: pattern, rule_first_seen_at: rule ? ts : null, cwd: '/w', session_id: `s-${ts}`, ...more };
  };
  const p = (ts: string, rule: string, more: Record<string, unknown> = {}) => {
    const [pack, pattern] = rule.split(':');
    return { key: `p-${ts}`, type: 'pending', ts, outcome: 'deny', rule_id: rule, pack_id: pack, pattern_name: pattern, rule_first_seen_at: ts, cwd: '/w', short_code: '12345', ...more };
  };

  let dir: string;
  before(async () => {
    dir = tmpDir('vc-dcg-views-');
    // m1: before the window, a force push; in it, a reset --hard in both stores (the same deny),
    // a drop-table only in pending (consumed on a later read), a medium warn, an allow, an
    // allowlisted rule hit, a rule of an unknown pack, and rm -rf / hit before (first seen 2026-11-01).
    await store(dir, 'm1', '2026-11-24T04:05:00.000Z', [h('2026-11-24T04:00:00.000Z', 'deny', 'core.git:push-force-long')]);
    await store(dir, 'm1', '2026-11-24T09:05:00.000Z', [h('2026-11-24T09:00:00.000Z', 'deny', 'core.filesystem:rm-rf-root-home', { rule_first_seen_at: '2026-11-01T08:00:00.000Z' })]);
    await store(dir, 'm1', '2026-11-24T10:20:00.000Z', [
      h('2026-11-24T10:10:00.000Z', 'warn', 'core.git:stash-drop'),
      h('2026-11-24T10:15:00.000Z', 'allow', null),
    ]);
    await store(dir, 'm1', '2026-11-24T11:56:00.000Z', [
      p('2026-11-24T11:30:00.000Z', 'core.git:reset-hard'),
      h('2026-11-24T11:30:00.400Z', 'deny', 'core.git:reset-hard'),
      p('2026-11-24T11:40:00.000Z', 'database.postgresql:drop-table', { cwd: '/api' }),
      h('2026-11-24T11:50:00.000Z', 'deny', 'acme.tools:wipe'),
      h('2026-11-24T11:55:00.000Z', 'allow', 'core.filesystem:rm-rf-general', { allowlist_layer: 'project' }),
    ]);
    // A later read of the same records: the reset-hard history row again, drop-table now consumed.
    await store(dir, 'm1', '2026-11-24T11:58:00.000Z', [
      h('2026-11-24T11:30:00.400Z', 'deny', 'core.git:reset-hard'),
      p('2026-11-24T11:40:00.000Z', 'database.postgresql:drop-table', { cwd: '/api', consumed_at: '2026-11-24T11:45:00.000Z' }),
    ]);
    // m2: dcg read, nothing judged. m3: a dozen denies in the last hour.
    await store(dir, 'm2', '2026-11-24T11:50:00.000Z', []);
    await store(dir, 'm3', '2026-11-24T11:50:00.000Z', Array.from({ length: 12 }, (_, i) =>
      h(`2026-11-24T11:${String(10 + i).padStart(2, '0')}:00.000Z`, 'deny', 'core.git:checkout-discard', { rule_first_seen_at: '2026-10-01T00:00:00.000Z' })));
  });

  let session: Session;
  before(async () => {
    session = await openSession({ dataDir: dir, now: NOW, machines: ['m1', 'm2', 'm3'].map((id) => ({ id, ssh: 'local', tags: [], collectable: false, collectors: [] })) });
  });
  after(() => session?.close());
  const query = (sql: string) => session.query(sql);

  test('dcg_events: each command once, the history row for a deny in both stores, the last read of a record, severity by rule', async () => {
    assert.deepEqual(await query(`SELECT count(*) FILTER (WHERE rule_first_seen_at IS NULL) AS unset, count(*) FILTER (WHERE rule_id IS NULL) AS no_rule FROM v1.dcg_events`), [{ unset: 1, no_rule: 1 }]);
    assert.deepEqual(await query(`SELECT ts, origin, outcome, rule_id, severity, consumed_at FROM v1.dcg_events WHERE machine_id = 'm1' ORDER BY ts`), [
      { ts: '2026-11-24T04:00:00.000Z', origin: 'history', outcome: 'deny', rule_id: 'core.git:push-force-long', severity: 'critical', consumed_at: null },
      { ts: '2026-11-24T09:00:00.000Z', origin: 'history', outcome: 'deny', rule_id: 'core.filesystem:rm-rf-root-home', severity: 'critical', consumed_at: null },
      { ts: '2026-11-24T10:10:00.000Z', origin: 'history', outcome: 'warn', rule_id: 'core.git:stash-drop', severity: 'medium', consumed_at: null },
      { ts: '2026-11-24T10:15:00.000Z', origin: 'history', outcome: 'allow', rule_id: null, severity: null, consumed_at: null },
      { ts: '2026-11-24T11:30:00.400Z', origin: 'history', outcome: 'deny', rule_id: 'core.git:reset-hard', severity: 'critical', consumed_at: null },
      { ts: '2026-11-24T11:40:00.000Z', origin: 'pending', outcome: 'deny', rule_id: 'database.postgresql:drop-table', severity: 'high', consumed_at: '2026-11-24T11:45:00.000Z' },
      { ts: '2026-11-24T11:50:00.000Z', origin: 'history', outcome: 'deny', rule_id: 'acme.tools:wipe', severity: null, consumed_at: null },
      { ts: '2026-11-24T11:55:00.000Z', origin: 'history', outcome: 'allow', rule_id: 'core.filesystem:rm-rf-general', severity: 'high', consumed_at: null },
    ]);
  });

  test('dcg_denies_hourly, dcg_top_rules, dcg_new_critical_rules over the recent window', async () => {
    assert.deepEqual(await query(`SELECT hour, commands, denies, warns, allowed_rule_hits, denied_rules, top_denied_rule FROM v1.dcg_denies_hourly WHERE machine_id = 'm1' ORDER BY hour`), [
      { hour: '2026-11-24T09:00:00.000Z', commands: 1, denies: 1, warns: 0, allowed_rule_hits: 0, denied_rules: 1, top_denied_rule: 'core.filesystem:rm-rf-root-home' },
      { hour: '2026-11-24T10:00:00.000Z', commands: 2, denies: 0, warns: 1, allowed_rule_hits: 0, denied_rules: 0, top_denied_rule: null },
      // Three rules denied once each: the first by name.
      { hour: '2026-11-24T11:00:00.000Z', commands: 4, denies: 3, warns: 0, allowed_rule_hits: 1, denied_rules: 3, top_denied_rule: 'acme.tools:wipe' },
    ]);
    assert.deepEqual(await query(`SELECT rank, rule_id, severity, hits, denies, warns, allowed, first_seen_at, cwds FROM v1.dcg_top_rules WHERE machine_id = 'm1' ORDER BY rank`), [
      { rank: 1, rule_id: 'acme.tools:wipe', severity: null, hits: 1, denies: 1, warns: 0, allowed: 0, first_seen_at: '2026-11-24T11:50:00.000Z', cwds: ['/w'] },
      { rank: 2, rule_id: 'core.filesystem:rm-rf-root-home', severity: 'critical', hits: 1, denies: 1, warns: 0, allowed: 0, first_seen_at: '2026-11-01T08:00:00.000Z', cwds: ['/w'] },
      { rank: 3, rule_id: 'core.git:reset-hard', severity: 'critical', hits: 1, denies: 1, warns: 0, allowed: 0, first_seen_at: '2026-11-24T11:30:00.400Z', cwds: ['/w'] },
      { rank: 4, rule_id: 'database.postgresql:drop-table', severity: 'high', hits: 1, denies: 1, warns: 0, allowed: 0, first_seen_at: '2026-11-24T11:40:00.000Z', cwds: ['/api'] },
      { rank: 5, rule_id: 'core.filesystem:rm-rf-general', severity: 'high', hits: 1, denies: 0, warns: 0, allowed: 1, first_seen_at: '2026-11-24T11:55:00.000Z', cwds: ['/w'] },
      { rank: 6, rule_id: 'core.git:stash-drop', severity: 'medium', hits: 1, denies: 0, warns: 1, allowed: 0, first_seen_at: '2026-11-24T10:10:00.000Z', cwds: ['/w'] },
    ]);
    // rm -rf / was hit before the window; the force push is older than the window.
    assert.deepEqual(await query(`SELECT machine_id, rule_id, hits, denies, first_seen_at FROM v1.dcg_new_critical_rules ORDER BY machine_id, rule_id`), [
      { machine_id: 'm1', rule_id: 'core.git:reset-hard', hits: 1, denies: 1, first_seen_at: '2026-11-24T11:30:00.400Z' },
    ]);
  });

  test('dcg_factors: denies in the last hour per machine where dcg was read, a new critical rule; graded and triaged', async () => {
    assert.deepEqual(await query(`SELECT machine_id, factor_id, subject, value, summary, title, next FROM v1.dcg_factors ORDER BY machine_id, factor_id`), [
      { machine_id: 'm1', factor_id: 'dcg_denies', subject: null, value: 3,
        summary: 'dcg denied 3 commands in the last hour, most: acme.tools:wipe (1), core.git:reset-hard (1), database.postgresql:drop-table (1)',
        title: 'm1: dcg denied 3 commands in the last hour', next: ['vc report events --machine m1 --md'] },
      { machine_id: 'm1', factor_id: 'dcg_new_critical_rule', subject: 'core.git:reset-hard', value: 1,
        summary: 'critical dcg rule core.git:reset-hard first hit on this machine 30m ago: 1 denied, 0 allowed, in /w',
        title: 'm1: new critical dcg rule core.git:reset-hard (1 hits)',
        next: ['vc report events --machine m1 --md',
          `vc query "SELECT ts, outcome, origin, cwd, session_id, short_code FROM dcg_events WHERE machine_id = 'm1' AND rule_id = 'core.git:reset-hard' ORDER BY ts DESC"`] },
      { machine_id: 'm2', factor_id: 'dcg_denies', subject: null, value: 0, summary: 'dcg denied 0 commands in the last hour',
        title: 'm2: dcg denied 0 commands in the last hour', next: ['vc report events --machine m2 --md'] },
      { machine_id: 'm3', factor_id: 'dcg_denies', subject: null, value: 12, summary: 'dcg denied 12 commands in the last hour, most: core.git:checkout-discard (12)',
        title: 'm3: dcg denied 12 commands in the last hour', next: ['vc report events --machine m3 --md'] },
    ]);
    const triage = await query(`SELECT machine_id, factor_id, severity, title, next FROM v1.triage_items WHERE factor_id LIKE 'dcg%' ORDER BY machine_id, factor_id`);
    assert.deepEqual(triage.map((t) => [t.machine_id, t.factor_id, t.severity, t.title]), [
      ['m1', 'dcg_new_critical_rule', 'warn', 'm1: new critical dcg rule core.git:reset-hard (1 hits)'],
      ['m3', 'dcg_denies', 'warn', 'm3: dcg denied 12 commands in the last hour'],
    ]);
    assert.equal((triage[0]!.next as string[]).at(-1), 'vc report machines --md');
  });

  test('the suggested commands run as written; vc report events --json over the span', async () => {
    const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'none.toml') };
    fs.writeFileSync(env.VC_CONFIG, '[[machines]]\nid = "m1"\n[[machines]]\nid = "m2"\n[[machines]]\nid = "m3"\n');
    const q = vc(['query', `SELECT ts, outcome, origin, cwd, session_id, short_code FROM dcg_events WHERE machine_id = 'm1' AND rule_id = 'core.git:reset-hard' ORDER BY ts DESC`, '--format', 'json', '--as-of', NOW.toISOString()], env);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(JSON.parse(q.stdout).data.rows.map((r: any) => [r.ts, r.outcome, r.origin]), [['2026-11-24T11:30:00.400Z', 'deny', 'history']]);
    const r = vc(['report', 'events', '--json', '--as-of', NOW.toISOString(), '--since', '2026-11-24T06:00:00Z'], env);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout).data;
    assert.deepEqual(d.span, { since: '2026-11-24T06:00:00.000Z', until: '2026-11-24T12:00:00.000Z', machine: null });
    assert.deepEqual(d.dcg_totals, { commands: 19, denies: 16, warns: 1, allowed_rule_hits: 1, critical_denies: 2, machines: 2, rules: 7, first_at: '2026-11-24T09:00:00.000Z', last_at: '2026-11-24T11:55:00.000Z' });
    assert.deepEqual(d.dcg_machines.map((m: any) => [m.machine_id, m.denies, m.critical_denies, m.has_history]), [['m3', 12, 0, true], ['m1', 4, 2, true]]);
    assert.deepEqual(d.dcg_top_rules[0], { rule_id: 'core.git:checkout-discard', severity: 'high', hits: 12, denies: 12, warns: 0, allowed: 0, machines: 1, first_at: '2026-11-24T11:10:00.000Z', last_at: '2026-11-24T11:21:00.000Z' });
    assert.deepEqual(d.dcg_new_critical.map((x: any) => [x.machine_id, x.rule_id]), [['m1', 'core.git:reset-hard']]);
    assert.deepEqual(d.dcg_hourly.map((x: any) => [x.hour, x.denies]), [['2026-11-24T09:00:00.000Z', 1], ['2026-11-24T10:00:00.000Z', 0], ['2026-11-24T11:00:00.000Z', 15]]);
    assert.deepEqual(d.dcg_recent_denies.slice(0, 2).map((x: any) => [x.ts, x.machine_id, x.rule_id, x.origin, x.consumed_at]), [
      ['2026-11-24T11:50:00.000Z', 'm1', 'acme.tools:wipe', 'history', null],
      ['2026-11-24T11:40:00.000Z', 'm1', 'database.postgresql:drop-table', 'pending', '2026-11-24T11:45:00.000Z'],
    ]);
    // The Markdown of one machine's events, as vc report events --md --machine m1 renders it.
    const report = (await import('../reports/events.ts')).default;
    const options = { machine: 'm1' };
    const md = report.render(await runReportQueries('events', session, options), { ...(await reportContext(session, NOW, [])), options });
    const one = { stdout: md };
    assert.match(one.stdout, /^# vc events · 2026-11-24 12:00 UTC\n\n2026-11-23 12:00 UTC to 2026-11-24 12:00 UTC, machine m1\./);
    assert.match(one.stdout, /\*\*5 denied\*\* \(3 critical\)/);
    assert.match(one.stdout, /### Critical rules new to a machine\n\n\| machine \| rule \|.*\n\|---.*\n\| m1 \| core\.git:reset-hard \| 1 \| 1 \| 0 \|/);
    assert.ok(!one.stdout.includes('m3'));
  });
});
