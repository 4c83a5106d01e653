// ru: its outputs (fixtures/ru, after ../shared/upstream/ru.md) parsed into items, collected end to
// end through a fake ru on PATH (locally and on a real sshd), the staging view, and the repository
// picture merged with vc's own repos collector (one row per machine and path): given rows, expected rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ruItems, ruSchema } from '../lib/sources/ru.ts';
import { reposSchema, type RepoData } from '../lib/sources/repos.ts';
import { openSession } from '../lib/duck.ts';
import { REPORTS, reportContext, runReportQueries } from '../lib/report.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { storable, type Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';
import { readRaw, tmpDir, vc, withNulls } from './helpers.ts';
import { sshdAvailable, farMachineToml, startSshdWithPath, type Sshd } from './sshd.ts';

const step = (name: string, cmd: string) => {
  const f = (ext: string) => path.join(import.meta.dirname, '..', 'fixtures', 'ru', `${name}.${cmd}.${ext}`);
  const read = (ext: string) => (fs.existsSync(f(ext)) ? fs.readFileSync(f(ext), 'utf8') : '');
  return { stdout: read('out'), stderr: read('err'), rc: Number(read('rc').trim() || 0) };
};
const fixture = (name: string) => ({ status: step(name, 'status'), list: step(name, 'list') });
const data = (items: Array<{ data: unknown }>) => items.map((i) => withNulls(ruSchema, i.data as Record<string, unknown>));

describe('ru status --json --no-fetch and ru list --json, parsed', () => {
  test('ru 1.3.1: a repo row per path with the list\'s URL; -1 counts are unknown, an empty branch none', () => {
    const items = ruItems(fixture('default'));
    for (const i of items) ruSchema.parse(i.data);
    const [run, api, web, infra, docs] = data(items);
    assert.deepEqual(run, withNulls(ruSchema, { type: 'run', version: '1.3.1', generated_at: '2026-08-20T14:02:51.000Z', status_shape: 'envelope', list_shape: 'envelope', total: 4 }));
    assert.deepEqual(api, withNulls(ruSchema, { type: 'repo', repo: 'acme/api-server', path: '/data/projects/api-server', url: 'acme/api-server',
      status: 'ahead', branch: 'main', ahead: 2, behind: 0, dirty: false, mismatch: false }));
    assert.deepEqual([web!.status, web!.dirty, web!.url], ['no_upstream', true, 'https://github.com/acme/web']);
    assert.deepEqual([infra!.status, infra!.branch, infra!.ahead, infra!.behind, infra!.mismatch, infra!.url],
      ['diverged', null, null, null, true, 'git@gitlab.com:ops/infra.git']);
    assert.deepEqual([docs!.status, docs!.repo], ['missing', 'acme/docs']);
    assert.deepEqual(items.map((i) => i.key ?? null), [null, ...[api, web, infra, docs].map((d) => d!.path)], 'repos are keyed by path');
  });

  test('nothing configured: empty stdout and exit 0 is a run row with ru\'s note, no repos', () => {
    assert.deepEqual(data(ruItems(fixture('empty'))), [withNulls(ruSchema, {
      type: 'run', status_shape: 'empty', list_shape: 'empty', note: 'No configuration found. Run: ru init',
    })]);
  });

  test('ru <= 1.2.1: status as a bare array, list as one URL a line (no paths, so no URLs)', () => {
    const [run, api, web] = data(ruItems(fixture('old')));
    assert.deepEqual([run!.status_shape, run!.list_shape, run!.version, run!.total], ['array', 'lines', null, null]);
    assert.deepEqual([api!.status, api!.url], ['current', null]);
    assert.deepEqual([web!.status, web!.behind], ['behind', 3]);
  });

  test('February\'s main (envelope, "version": "1.2.1", output_format toon): read by its shape, not its version', () => {
    const all = data(ruItems(fixture('variant')));
    assert.deepEqual([all[0]!.status_shape, all[0]!.version, all[0]!.total], ['envelope', '1.2.1', 3]);
    assert.deepEqual(all.slice(1).map((d) => [d.path, d.status, d.ahead, d.behind, d.dirty, d.url]), [
      ['/srv/code/acme/api-server', 'current', 0, 0, false, 'acme/api-server'],
      ['/srv/code/acme/tools', 'not_git', 0, 0, false, 'acme/tools'],
      ['/srv/code/acme/site', 'diverged', 4, 1, true, 'git@github.com:acme/site.git'],
    ]);
  });

  test('a repo ru lists but status does not have is kept from the list; a repeated path once', () => {
    const status = { stdout: JSON.stringify({ command: 'status', data: { total: 2, repos: [
      { repo: 'a/x', path: '/p/x', status: 'current', branch: 'main', ahead: 0, behind: 0, dirty: false, mismatch: false },
      { repo: 'a/x', path: '/p/x', status: 'current', branch: 'main', ahead: 0, behind: 0, dirty: false, mismatch: false },
    ] } }), stderr: '', rc: 0 };
    const list = { stdout: JSON.stringify({ command: 'list', data: { total: 2, repos: [{ repo: 'a/x', url: 'a/x', path: '/p/x' }, { repo: 'a/y', url: 'a/y', path: '/p/y' }] } }), stderr: '', rc: 0 };
    assert.deepEqual(data(ruItems({ status, list })).slice(1).map((d) => [d.path, d.repo, d.status, d.url]), [['/p/x', 'a/x', 'current', 'a/x'], ['/p/y', 'a/y', null, 'a/y']]);
  });

  test('what is not ru\'s output is a clear error naming the command and what was wrong', () => {
    assert.throws(() => ruItems(fixture('oldbash')), /ru status --json --no-fetch exited 3; stderr: "✖ ru requires Bash 4.0 or later/);
    assert.throws(() => ruItems(fixture('garbage')), /ru status --json --no-fetch did not print JSON: "repos\[2\]/);
    assert.throws(() => ruItems(fixture('wrongshape')), /printed JSON of an unexpected shape: data\.repos\[0\]\.ahead/);
    const ok = fixture('default');
    assert.throws(() => ruItems({ ...ok, list: { stdout: '', stderr: '', rc: 124 } }), /ru list --json did not answer in time/);
    assert.throws(() => ruItems({ ...ok, list: { stdout: '{"command":"list","data":{}}', stderr: '', rc: 0 } }), /ru list --json printed JSON of an unexpected shape: data\.repos/);
    assert.throws(() => ruItems({ ...ok, status: step('default', 'list') }), /ru status --json --no-fetch printed (the output of "list"|JSON of an unexpected shape)/);
  });
});

function setup(toml = '') {
  const s = collectEnv('ru', toml);
  return { ...s, ru: fakeTool(s.bin, 'ru') };
}

describe('vc collect --source ru', () => {
  test('runs ru status --json --no-fetch (never a fetch) and ru list --json, and stores the run and a row per repo', () => {
    const s = setup();
    const r = s.collect();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.ru.calls(), [['status', '--json', '--no-fetch'], ['list', '--json']]);
    assert.equal(s.lastRun().status, 'ok');
    assert.deepEqual(s.rows().map((l) => [l.kind, l.key ?? null, l.data.type, l.data.status ?? null]), [
      ['snapshot', null, 'run', null], ['snapshot', '/data/projects/api-server', 'repo', 'ahead'], ['snapshot', '/data/projects/web', 'repo', 'no_upstream'],
      ['snapshot', '/data/projects/infra', 'repo', 'diverged'], ['snapshot', '/data/projects/docs', 'repo', 'missing'],
    ]);
    assert.equal(s.rows()[3]!.data.ahead, undefined, '-1 is stored as unknown (null, dropped from the line)');
  });

  test('ru not installed: the run is absent, nothing stored, exit 0', () => {
    const s = setup();
    fs.rmSync(s.ru.path);
    assert.equal(s.collect().code, 0);
    assert.equal(s.lastRun().status, 'absent');
    assert.match(s.lastRun().warnings[0], /^ru is not installed here/);
    assert.deepEqual(s.rows(), []);
  });

  test('a non-zero exit or garbage is a recorded error and stores nothing', () => {
    const s = setup();
    for (const [c, why] of [['oldbash', /exited 3; stderr: .*Bash 4\.0/], ['garbage', /did not print JSON/]] as const) {
      s.ru.use(c);
      assert.equal(s.collect().code, 1, c);
      assert.equal(s.lastRun().status, 'error', c);
      assert.match(s.lastRun().error, why, c);
      assert.deepEqual(s.rows(), [], c);
    }
  });

  test('an ru that hangs is stopped at the step timeouts and recorded as an error; nothing stored', () => {
    const s = setup('[collectors.ru]\nstatus_timeout_seconds = 1\nlist_timeout_seconds = 1\n');
    s.ru.use('hang');
    const t0 = Date.now();
    assert.equal(s.collect().code, 1);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.equal(s.lastRun().status, 'error');
    assert.match(s.lastRun().error, /ru status --json --no-fetch did not answer in time/);
    assert.deepEqual(s.rows(), []);
  });
});

describe('ru over ssh', { skip: sshdAvailable() ? false : 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  const s = setup();
  before(async () => {
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(s.bin, 0o755);
    sshd = await startSshdWithPath(s.bin);
    fs.writeFileSync(s.env.VC_CONFIG, farMachineToml(sshd));
  });
  after(() => sshd?.stop());

  test('the same rows as locally, from the remote machine', () => {
    s.ru.use('old');
    const r = vc(['collect', '--source', 'ru', '--json'], { ...s.env, XDG_RUNTIME_DIR: s.dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const rows = readRaw(s.env.VC_DATA_DIR, 'ru', 'far');
    assert.deepEqual(rows.map((l) => [l.data.type, l.data.path ?? null, l.data.status ?? null]), [
      ['run', null, null], ['repo', '/data/projects/api-server', 'current'], ['repo', '/data/projects/web', 'behind'],
    ]);
    assert.equal(rows[0]!.data.status_shape, 'array');
  });
});

// ---------------------------------------------------------------------------------------------
// Views

const NOW = new Date('2026-11-24T12:00:00Z');
const at = (hhmm: string) => `2026-11-24T${hhmm}:00.000Z`;
let seq = 0;

async function store(dir: string, source: 'ru' | 'repos', machine: string, when: string, items: Array<{ key?: string; data: Record<string, unknown> }>) {
  const run = `${source}-${++seq}`;
  const envs: Envelope[] = items.map((it, i) => ({
    v: 1, source, machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'snapshot', data: storable(it.data) as Record<string, unknown>, key: it.key ?? `${run}-${i}`,
  }));
  await appendEnvelopes(dir, envs);
  await appendEnvelopes(dir, [{
    v: 1, source: 'collector_runs', machine_id: machine, collected_at: when, run_id: run, collector_version: '1.0.0', schema_version: 1,
    kind: 'event', key: run, data: { source, started_at: when, ended_at: when, duration_ms: 1, bytes: 1, rows: items.length, status: 'ok', error: null, warnings: [] },
  }]);
}

const ruRun = () => ({ data: withNulls(ruSchema, { type: 'run', status_shape: 'envelope', list_shape: 'envelope', version: '1.3.1' }) });
const ruRepo = (p: string, over: Record<string, unknown>) => ({
  key: p, data: ruSchema.parse(withNulls(ruSchema, { type: 'repo', repo: `acme/${p.split('/').filter(Boolean).pop()}`, path: p, url: 'x',
    status: 'current', branch: 'main', ahead: 0, behind: 0, dirty: false, mismatch: false, ...over })),
});
const vcRepo = (p: string, over: Partial<RepoData> = {}) => ({
  key: p, data: reposSchema.parse({
    path: p, name: p.split('/').pop(), branch: 'main', head: 'a'.repeat(40), detached: false, upstream: 'origin/main',
    ahead: 0, behind: 0, dirty_files: 0, staged_files: 0, untracked_files: 0, conflicted_files: 0, stash_count: 0,
    last_commit_at: '2026-11-24T09:00:00.000Z', last_commit_subject: 'wip', remote_url: null, error: null, ...over,
  }) as Record<string, unknown>,
});

/**
 * m1: vc's scan at 11:00, ru at 11:30 (fresher): api-server (vc: ahead 2, 1 changed file; ru: ahead
 *     3, clean), web (vc: no upstream, clean; ru with a trailing slash: dirty), scratch (vc only),
 *     infra (ru only: diverged, uncounted, origin mismatch), docs (ru only: not cloned).
 * m2: ru at 10:00, vc's scan at 11:00 (fresher): a (ru: behind 1; vc: clean), b (ru: listed only).
 */
async function fleet(dir: string) {
  await store(dir, 'repos', 'm1', at('11:00'), [
    vcRepo('/data/projects/api-server', { ahead: 2, dirty_files: 1 }),
    vcRepo('/data/projects/web', { branch: 'feature/login', upstream: null, ahead: null, behind: null }),
    vcRepo('/home/u/scratch'),
  ]);
  await store(dir, 'ru', 'm1', at('11:30'), [
    ruRun(),
    ruRepo('/data/projects/api-server', { status: 'ahead', ahead: 3 }),
    ruRepo('/data/projects/web/', { status: 'no_upstream', branch: 'feature/login', dirty: true }),
    ruRepo('/data/projects/infra', { repo: 'gitlab.com/ops/infra', status: 'diverged', branch: null, ahead: null, behind: null, mismatch: true }),
    ruRepo('/data/projects/docs', { status: 'missing', branch: null }),
  ]);
  await store(dir, 'ru', 'm2', at('10:00'), [
    ruRun(),
    ruRepo('/srv/a', { status: 'behind', behind: 1 }),
    { key: '/srv/b', data: withNulls(ruSchema, { type: 'repo', repo: 'acme/b', path: '/srv/b', url: 'acme/b' }) },
  ]);
  await store(dir, 'repos', 'm2', at('11:00'), [vcRepo('/srv/a')]);
}

describe('ru views: given rows, expected rows', () => {
  let shared: Awaited<ReturnType<typeof openSession>>;
  before(async () => {
    const dir = tmpDir('vc-ru-views-');
    await fleet(dir);
    shared = await openSession({ dataDir: dir, now: NOW });
  });
  after(() => shared?.close());

  test('ru_repos: the last run\'s repositories of each machine, by path', async () => {
    assert.deepEqual(await shared.query(`SELECT machine_id, path, status, ahead, mismatch FROM v1.ru_repos ORDER BY machine_id, path`), [
      { machine_id: 'm1', path: '/data/projects/api-server', status: 'ahead', ahead: 3, mismatch: false },
      { machine_id: 'm1', path: '/data/projects/docs', status: 'missing', ahead: 0, mismatch: false },
      { machine_id: 'm1', path: '/data/projects/infra', status: 'diverged', ahead: null, mismatch: true },
      { machine_id: 'm1', path: '/data/projects/web/', status: 'no_upstream', ahead: 0, mismatch: false },
      { machine_id: 'm2', path: '/srv/a', status: 'behind', ahead: 0, mismatch: false },
      { machine_id: 'm2', path: '/srv/b', status: null, ahead: null, mismatch: null },
    ]);
  });

  test('repos_merged: one row per machine and path; git state from the fresher collector, vc\'s counts kept', async () => {
    const rows = await shared.query(`SELECT machine_id, path, name, seen_by, state_from, state, branch, ahead, behind, dirty, dirty_files,
      upstream, ru_status, mismatch FROM v1.repos_merged ORDER BY machine_id, path`);
    assert.deepEqual(rows, [
      // ru (11:30) is fresher than vc's scan (11:00): ahead 3 and clean; vc's count of changed files stays as vc read it.
      { machine_id: 'm1', path: '/data/projects/api-server', name: 'api-server', seen_by: ['repos', 'ru'], state_from: 'ru', state: 'ahead',
        branch: 'main', ahead: 3, behind: 0, dirty: false, dirty_files: 1, upstream: 'origin/main', ru_status: 'ahead', mismatch: false },
      { machine_id: 'm1', path: '/data/projects/docs', name: 'docs', seen_by: ['ru'], state_from: 'ru', state: 'missing',
        branch: null, ahead: 0, behind: 0, dirty: false, dirty_files: null, upstream: null, ru_status: 'missing', mismatch: false },
      { machine_id: 'm1', path: '/data/projects/infra', name: 'infra', seen_by: ['ru'], state_from: 'ru', state: 'diverged',
        branch: null, ahead: null, behind: null, dirty: false, dirty_files: null, upstream: null, ru_status: 'diverged', mismatch: true },
      // ru printed the path with a trailing slash: the same repository.
      { machine_id: 'm1', path: '/data/projects/web', name: 'web', seen_by: ['repos', 'ru'], state_from: 'ru', state: 'dirty',
        branch: 'feature/login', ahead: 0, behind: 0, dirty: true, dirty_files: 0, upstream: null, ru_status: 'no_upstream', mismatch: false },
      { machine_id: 'm1', path: '/home/u/scratch', name: 'scratch', seen_by: ['repos'], state_from: 'repos', state: 'clean',
        branch: 'main', ahead: 0, behind: 0, dirty: false, dirty_files: 0, upstream: 'origin/main', ru_status: null, mismatch: null },
      // vc's scan (11:00) is fresher than ru (10:00): clean and level, whatever ru said.
      { machine_id: 'm2', path: '/srv/a', name: 'a', seen_by: ['repos', 'ru'], state_from: 'repos', state: 'clean',
        branch: 'main', ahead: 0, behind: 0, dirty: false, dirty_files: 0, upstream: 'origin/main', ru_status: 'behind', mismatch: false },
      // Listed by ru, with no status: known to exist in ru's config, nothing about its git state.
      { machine_id: 'm2', path: '/srv/b', name: 'b', seen_by: ['ru'], state_from: null, state: null,
        branch: null, ahead: null, behind: null, dirty: null, dirty_files: null, upstream: null, ru_status: null, mismatch: null },
    ]);
  });

  test('the repos report reads the merged picture', async () => {
    const data = await runReportQueries('repos', shared);
    assert.deepEqual(data.machines, [
      { machine_id: 'm1', repos: 5, dirty: 1, ahead: 1, behind: 0, conflicted: 0, errors: 0, missing: 1, mismatched: 1 },
      { machine_id: 'm2', repos: 2, dirty: 0, ahead: 0, behind: 0, conflicted: 0, errors: 0, missing: 0, mismatched: 0 },
    ]);
    assert.deepEqual((data.repos as Array<Record<string, unknown>>).slice(0, 3).map((r) => [r.machine_id, r.name, r.state]),
      [['m1', 'web', 'dirty'], ['m1', 'infra', 'diverged'], ['m1', 'docs', 'missing']]);
    const report = (await REPORTS.repos!()).default;
    const md = report.render(data, { ...(await reportContext(shared, NOW, [])), options: {} });
    const line = (repo: string) => md.split('\n').find((l) => l.startsWith(`| ${repo.split(' ')[0]} | ${repo.split(' ')[1]} |`));
    assert.equal(line('m1 web'), '| m1 | web | dirty | feature/login | dirty | no upstream | 0 | 3h ago | wip | /data/projects/web | repos+ru |');
    assert.equal(line('m1 infra'), '| m1 | infra | diverged | (detached) | clean | +? -? |  |  |  | /data/projects/infra | ru (origin differs from ru) |');
    assert.equal(line('m1 docs'), '| m1 | docs | missing |  |  |  |  |  |  | /data/projects/docs | ru |');
    assert.equal(line('m1 api-server'), '| m1 | api-server | ahead | main | clean | +3 -0 | 0 | 3h ago | wip | /data/projects/api-server | repos+ru |');
    assert.equal(line('m2 b'), '| m2 | b |  |  |  |  |  |  |  | /srv/b | ru |');
  });
});
