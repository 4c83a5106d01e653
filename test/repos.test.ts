// The repos collector against real git repositories built in a temp HOME (clean, dirty with a
// conflict, ahead/behind, stash, detached, empty, credentials, worktree, broken, foreign owner),
// discovery limits, and fake git binaries that print garbage, hang or flood; plus the pure parsers.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  parseLastCommit, parseRepoRecords, parseStatusSummary, planBudget, redactUrl, repoFromRecord, reposSchema, rootWord,
} from '../lib/sources/repos.ts';
import { shQuote } from '../lib/shell.ts';
import { readRaw, runScript, tmpDir, withNulls, writeExecutable } from './helpers.ts';

const FIELDS = [
  'path', 'name', 'branch', 'head', 'detached', 'upstream', 'ahead', 'behind', 'dirty_files', 'staged_files',
  'untracked_files', 'conflicted_files', 'stash_count', 'last_commit_at', 'last_commit_subject', 'remote_url', 'error',
].sort();

const COMMIT_DATE = '2024-05-01T12:00:00Z';
const tmp = fs.realpathSync(tmpDir('vc-repos-'));
const home = path.join(tmp, 'home');
const isRoot = process.getuid?.() === 0;

const mkdir = (...parts: string[]) => {
  const dir = path.join(...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

/** The environment of the test's own git calls: no user or system config, fixed identities and dates. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com', GIT_AUTHOR_DATE: COMMIT_DATE, GIT_COMMITTER_DATE: COMMIT_DATE,
  };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OPTIONAL_LOCKS', 'SUDO_UID']) delete env[k];
  return env;
}

function git(cwd: string, args: string[], allowFail = false): string {
  const r = spawnSync('git', args, { cwd, env: gitEnv(), encoding: 'utf8' });
  if (!allowFail) assert.equal(r.status, 0, `git ${args.join(' ')} in ${cwd}: ${r.stderr}`);
  return r.stdout;
}

function commit(dir: string, message: string, files: Record<string, string> = {}): void {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message]);
}

function initRepo(dir: string): string {
  mkdir(dir);
  git(dir, ['init', '-q', '-b', 'main']);
  return dir;
}

/** Counts from plain `git status --porcelain` (v1), to cross-check the collector's own reading. */
function porcelainV1Counts(dir: string) {
  const lines = git(dir, ['status', '--porcelain']).split('\n').filter(Boolean).map((l) => l.slice(0, 2));
  const conflicted = lines.filter((xy) => ['DD', 'AU', 'UD', 'UA', 'DU', 'AA', 'UU'].includes(xy)).length;
  return {
    dirty_files: lines.filter((xy) => xy !== '??' && xy !== '!!').length,
    staged_files: lines.filter((xy) => !['DD', 'AU', 'UD', 'UA', 'DU', 'AA', 'UU'].includes(xy) && xy[0] !== ' ' && xy[0] !== '?' && xy[0] !== '!').length,
    untracked_files: lines.filter((xy) => xy === '??').length,
    conflicted_files: conflicted,
  };
}

interface Collected {
  code: number | null;
  outcome: Record<string, any>;
  /** The repos lines as stored (null-valued keys dropped). */
  stored: Array<Record<string, any>>;
  /** The same lines with every schema key of their data restored (absent = null). */
  lines: Array<Record<string, any>>;
  byPath: Map<string, Record<string, any>>;
  runs: Array<Record<string, any>>;
  rawText: string;
}

let confN = 0;
/** Writes a vc.toml, runs collect/repos.ts with HOME at the temp home, and reads what was stored. */
function collect(toml: string, env: NodeJS.ProcessEnv = {}): Collected {
  const conf = path.join(mkdir(tmp, 'conf'), `vc-${confN++}.toml`);
  fs.writeFileSync(conf, toml);
  const dataDir = tmpDir('vc-repos-data-');
  const r = runScript('collect/repos.ts', [], { HOME: home, VC_CONFIG: conf, VC_DATA_DIR: dataDir, ...env });
  assert.ok(r.stdout.trim(), `no outcome printed; stderr: ${r.stderr}`);
  const stored = readRaw(dataDir, 'repos', 'local');
  const lines = stored.map((l) => ({ ...l, data: withNulls(reposSchema, l.data) }));
  const rawDir = path.join(dataDir, 'raw', 'repos', 'machine=local');
  const rawText = fs.existsSync(rawDir) ? fs.readdirSync(rawDir).map((f) => fs.readFileSync(path.join(rawDir, f), 'utf8')).join('') : '';
  return {
    code: r.code, outcome: JSON.parse(r.stdout), stored, lines, rawText,
    byPath: new Map(lines.map((l) => [l.data.path as string, l.data])),
    runs: readRaw(dataDir, 'collector_runs', 'local'),
  };
}

const tomlList = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

/** Every stored line is a well-formed repos snapshot keyed by its path. */
function assertWellFormed(c: Collected): void {
  for (const line of c.stored) assert.ok(!JSON.stringify(line.data).includes(':null'), `a null was stored: ${JSON.stringify(line.data)}`);
  for (const line of c.lines) {
    assert.equal(line.source, 'repos');
    assert.equal(line.kind, 'snapshot');
    assert.equal(line.key, line.data.path);
    assert.deepEqual(Object.keys(line.data).sort(), FIELDS);
    reposSchema.parse(line.data);
  }
}

function assertRunLine(c: Collected, status: string, rows: number): Record<string, any> {
  assert.equal(c.runs.length, 1);
  const run = c.runs[0]!;
  assert.equal(run.source, 'collector_runs');
  assert.equal(run.data.source, 'repos');
  assert.equal(run.data.status, status);
  assert.equal(run.data.rows, rows);
  assert.equal(run.data.rows, c.lines.length);
  return run.data;
}

describe('repos collector on real repositories', () => {
  const work = path.join(home, 'work');
  const quoted = path.join(tmp, "it's a root");
  const missing = path.join(tmp, 'no such root');
  const r = {
    clean: path.join(work, 'clean'),
    dirty: path.join(work, 'dirty'),
    ab: path.join(work, 'ab'),
    gone: path.join(work, 'gone'),
    stashed: path.join(work, 'stashed'),
    detached: path.join(work, 'detached'),
    empty: path.join(work, 'empty'),
    creds: path.join(work, 'creds'),
    worktree: path.join(work, 'wt'),
    broken: path.join(work, 'broken'),
    foreign: path.join(work, 'foreign'),
    deep: path.join(work, 'd1', 'd2', 'd3'),
    tooDeep: path.join(work, 'e1', 'e2', 'e3', 'e4'),
    inNodeModules: path.join(work, 'node_modules', 'pkg'),
    inExcluded: path.join(work, "it's excluded", 'x'),
    quoted: path.join(quoted, "my repo's copy"),
  };
  let c: Collected;
  let dirtyExpected: ReturnType<typeof porcelainV1Counts>;
  let detachedHead: string;
  let abBehindTip: string;
  let cleanIndex: fs.Stats;

  before(() => {
    mkdir(home);
    commit(initRepo(r.clean), 'first commit', { 'a.txt': 'a\n' });

    // dirty: an unresolved merge, then a worktree change, two staged changes and untracked entries.
    initRepo(r.dirty);
    commit(r.dirty, 'base', { 'conflict.txt': 'base\n', 'a.txt': 'a\n', 'c.txt': 'c\n' });
    git(r.dirty, ['checkout', '-q', '-b', 'other']);
    commit(r.dirty, 'other side', { 'conflict.txt': 'other\n' });
    git(r.dirty, ['checkout', '-q', 'main']);
    commit(r.dirty, 'main side', { 'conflict.txt': 'main\n' });
    git(r.dirty, ['merge', '-q', 'other'], true);
    fs.writeFileSync(path.join(r.dirty, 'a.txt'), 'changed\n');
    fs.writeFileSync(path.join(r.dirty, 'b.txt'), 'new\n');
    fs.writeFileSync(path.join(r.dirty, 'c.txt'), 'c2\n');
    git(r.dirty, ['add', 'b.txt', 'c.txt']);
    fs.writeFileSync(path.join(r.dirty, 'u1.txt'), 'u\n');
    fs.writeFileSync(path.join(r.dirty, 'u 2.txt'), 'u\n');
    fs.writeFileSync(path.join(mkdir(r.dirty, 'newdir'), 'x'), 'x\n');
    dirtyExpected = porcelainV1Counts(r.dirty);

    // ab: its tracking ref knows one upstream commit it lacks, and it has two of its own. A third
    // upstream commit is pushed after the last fetch: reporting behind 2 would mean vc fetched.
    const bare = path.join(tmp, 'origin.git');
    git(tmp, ['init', '-q', '--bare', '-b', 'main', bare]);
    const helper = path.join(tmp, 'helper');
    git(tmp, ['clone', '-q', bare, helper], true);
    commit(helper, 'c1');
    git(helper, ['push', '-q', 'origin', 'HEAD:main']);
    git(work, ['clone', '-q', bare, r.ab]);
    git(work, ['clone', '-q', bare, r.gone]);
    commit(helper, 'c2');
    git(helper, ['push', '-q', 'origin', 'HEAD:main']);
    git(r.ab, ['fetch', '-q']);
    commit(r.ab, 'local 1');
    commit(r.ab, 'local 2');
    commit(helper, 'c3');
    git(helper, ['push', '-q', 'origin', 'HEAD:main']);
    abBehindTip = git(r.ab, ['rev-parse', 'origin/main']).trim();
    // gone: tracks origin/main, whose ref no longer exists locally.
    git(r.gone, ['update-ref', '-d', 'refs/remotes/origin/main']);

    initRepo(r.stashed);
    commit(r.stashed, 'stash base', { 's.txt': 's\n' });
    fs.writeFileSync(path.join(r.stashed, 's.txt'), 'stashed change\n');
    git(r.stashed, ['stash', '-q']);

    initRepo(r.detached);
    commit(r.detached, 'one');
    commit(r.detached, 'two');
    git(r.detached, ['checkout', '-q', '--detach', 'HEAD~1']);
    detachedHead = git(r.detached, ['rev-parse', 'HEAD']).trim();

    initRepo(r.empty);

    initRepo(r.creds);
    commit(r.creds, 'creds');
    git(r.creds, ['remote', 'add', 'origin', 'https://alice:s3cr3t-pw@example.com/org/repo.git']);

    git(r.clean, ['worktree', 'add', '-q', '-b', 'wt-branch', r.worktree]);

    mkdir(r.broken);
    fs.writeFileSync(path.join(r.broken, '.git'), 'gitdir: /nonexistent/vc-test/worktrees/x\n');

    initRepo(r.foreign);
    commit(r.foreign, 'foreign');
    if (isRoot) spawnSync('chown', ['-R', '4242:4242', r.foreign]);

    for (const dir of [r.deep, r.tooDeep, r.inNodeModules, r.inExcluded, r.quoted]) commit(initRepo(dir), 'x');

    // A tracked file with a new mtime makes a plain `git status` rewrite the index (taking index.lock).
    fs.utimesSync(path.join(r.clean, 'a.txt'), new Date(), new Date(Date.now() + 60_000));
    cleanIndex = fs.statSync(path.join(r.clean, '.git', 'index'));
    c = collect(`[collectors.repos]
roots = ${tomlList(['~/work', quoted, missing])}
max_depth = 3
exclude = ${tomlList(['node_modules', "it's excluded"])}
`);
  });

  test('the run succeeds, stores one well-formed snapshot per repository and records itself', () => {
    assert.equal(c.code, 0, JSON.stringify(c.outcome));
    assertWellFormed(c);
    const run = assertRunLine(c, 'ok', c.lines.length);
    assert.equal(run.error, null);
    assert.equal(c.outcome.status, 'ok');
  });

  test('discovery finds .git dirs and files, honours max_depth and excludes, expands ~ and quotes roots', () => {
    const expected = [
      r.clean, r.dirty, r.ab, r.gone, r.stashed, r.detached, r.empty, r.creds, r.worktree, r.broken, r.foreign, r.deep, r.quoted,
    ].sort();
    assert.deepEqual([...c.byPath.keys()].sort(), expected);
    assert.equal(c.byPath.get(r.quoted)!.name, "my repo's copy");
    assert.equal(c.byPath.get(r.quoted)!.error, null);
  });

  test('a root that does not exist is skipped with a warning', () => {
    const warnings: string[] = c.runs[0]!.data.warnings;
    assert.ok(warnings.some((w) => w.includes(JSON.stringify(missing)) && /does not exist/.test(w)), warnings.join('\n'));
  });

  test('a clean repository', () => {
    const clean = c.byPath.get(r.clean)!;
    assert.deepEqual(clean, {
      path: r.clean, name: 'clean', branch: 'main', head: git(r.clean, ['rev-parse', 'HEAD']).trim(), detached: false,
      upstream: null, ahead: null, behind: null, dirty_files: 0, staged_files: 0, untracked_files: 0, conflicted_files: 0,
      stash_count: 0, last_commit_at: '2024-05-01T12:00:00.000Z', last_commit_subject: 'first commit', remote_url: null, error: null,
    });
  });

  test('the collector never rewrites an index (no optional locks)', () => {
    const index = path.join(r.clean, '.git', 'index');
    const after = fs.statSync(index);
    assert.deepEqual([after.ino, after.mtimeMs], [cleanIndex.ino, cleanIndex.mtimeMs]);
    git(r.clean, ['status', '--porcelain']); // the same scenario with locks allowed does rewrite it
    assert.notEqual(fs.statSync(index).ino, cleanIndex.ino);
  });

  test('a dirty repository: counts match git status --porcelain', () => {
    const d = c.byPath.get(r.dirty)!;
    // conflict.txt, a.txt, b.txt, c.txt; b and c staged; u1, "u 2", newdir/ untracked.
    assert.deepEqual(dirtyExpected, { dirty_files: 4, staged_files: 2, untracked_files: 3, conflicted_files: 1 });
    assert.deepEqual(
      { dirty_files: d.dirty_files, staged_files: d.staged_files, untracked_files: d.untracked_files, conflicted_files: d.conflicted_files },
      dirtyExpected,
    );
    assert.equal(d.branch, 'main');
    assert.equal(d.last_commit_subject, 'main side');
    assert.equal(d.error, null);
  });

  test('ahead 2 / behind 1 from the tracking ref, without fetching', () => {
    const ab = c.byPath.get(r.ab)!;
    assert.equal(ab.upstream, 'origin/main');
    assert.equal(ab.ahead, 2);
    assert.equal(ab.behind, 1);
    assert.equal(git(r.ab, ['rev-parse', 'origin/main']).trim(), abBehindTip, 'the collector moved the tracking ref');
    assert.equal(ab.remote_url, path.join(tmp, 'origin.git'));
  });

  test('a gone upstream keeps its name with unknown ahead/behind', () => {
    const gone = c.byPath.get(r.gone)!;
    assert.equal(gone.upstream, 'origin/main');
    assert.equal(gone.ahead, null);
    assert.equal(gone.behind, null);
    assert.equal(gone.error, null);
  });

  test('a stash is counted', () => {
    const s = c.byPath.get(r.stashed)!;
    assert.equal(s.stash_count, 1);
    assert.equal(s.dirty_files, 0);
  });

  test('a detached HEAD has no branch but a head', () => {
    const d = c.byPath.get(r.detached)!;
    assert.equal(d.detached, true);
    assert.equal(d.branch, null);
    assert.equal(d.head, detachedHead);
    assert.equal(d.last_commit_subject, 'one');
  });

  test('a repository with no commits: branch known, head and last commit null, no error', () => {
    const e = c.byPath.get(r.empty)!;
    assert.equal(e.branch, 'main');
    assert.equal(e.head, null);
    assert.equal(e.last_commit_at, null);
    assert.equal(e.last_commit_subject, null);
    assert.equal(e.dirty_files, 0);
    assert.equal(e.error, null);
  });

  test('credentials in the remote URL are never stored', () => {
    assert.equal(c.byPath.get(r.creds)!.remote_url, 'https://example.com/org/repo.git');
    assert.ok(!c.rawText.includes('s3cr3t'), 'the password reached the stored file');
    assert.ok(!c.rawText.includes('alice'), 'the user name reached the stored file');
  });

  test('a linked worktree (.git file) is a repository of its own', () => {
    const wt = c.byPath.get(r.worktree)!;
    assert.equal(wt.branch, 'wt-branch');
    assert.equal(wt.error, null);
  });

  test('a path git refuses becomes an item with an error and unknown fields', () => {
    const b = c.byPath.get(r.broken)!;
    assert.match(b.error, /git status exited with 128: fatal: not a git repository/);
    assert.equal(b.head, null);
    assert.equal(b.dirty_files, null);
    assert.equal(b.stash_count, null);
    assert.ok(c.runs[0]!.data.warnings.some((w: string) => /repositories could not be read fully/.test(w)));
  });

  test('a repository owned by another user is reported as dubious, not read', { skip: !isRoot && 'needs root to chown' }, () => {
    const f = c.byPath.get(r.foreign)!;
    assert.match(f.error, /dubious ownership/);
    assert.equal(f.branch, null);
    assert.equal(f.untracked_files, null);
  });
});

describe('repos collector limits', () => {
  const base = mkdir(tmp, 'limits');
  before(() => {
    for (const n of ['r1', 'r2', 'r3']) commit(initRepo(path.join(base, n)), n);
  });

  test('max_repos truncates discovery and says so', () => {
    const c = collect(`[collectors.repos]\nroots = ${tomlList([base])}\nmax_repos = 2\n`);
    assert.equal(c.code, 0);
    assertWellFormed(c);
    assert.equal(c.lines.length, 2);
    const run = assertRunLine(c, 'ok', 2);
    assert.ok(run.warnings.some((w: string) => /max_repos=2/.test(w)), run.warnings.join('\n'));
  });

  test('a discovery that overruns discovery_timeout_seconds is cut short, keeping what it found', () => {
    // A find that reports one repository and then hangs, as on a stale network mount.
    const bin = mkdir(tmp, 'slow-find');
    writeExecutable(bin, 'find', `#!/bin/sh\nprintf '%s\\n' ${shQuote(path.join(base, 'r1', '.git'))}\nsleep 60\n`);
    const c = collect(`[collectors.repos]\nroots = ${tomlList([base])}\ndiscovery_timeout_seconds = 1\n`, { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(c.code, 0, JSON.stringify(c.outcome));
    assertWellFormed(c);
    assert.deepEqual([...c.byPath.keys()], [path.join(base, 'r1')]);
    const run = assertRunLine(c, 'ok', 1);
    assert.ok(run.duration_ms < 5000, `took ${run.duration_ms} ms`);
    assert.ok(run.warnings.some((w: string) => /cut short by discovery_timeout_seconds after 1s; found 1/.test(w)), run.warnings.join('\n'));
  });

  test('no warnings when nothing is cut short', () => {
    const c = collect(`[collectors.repos]\nroots = ${tomlList([base])}\n`);
    assert.equal(c.lines.length, 3);
    assert.deepEqual(assertRunLine(c, 'ok', 3).warnings, []);
  });
});

describe('repos collector with a bad git', () => {
  const base = mkdir(tmp, 'bad');
  const bin = mkdir(tmp, 'bad-bin');
  before(() => {
    for (const n of ['bad-header', 'garbage', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8']) commit(initRepo(path.join(base, n)), n);
  });
  const withGit = (name: string, body: string) => {
    const dir = mkdir(bin, name);
    writeExecutable(dir, 'git', body);
    return { PATH: `${dir}:${process.env.PATH}` };
  };

  test('malformed porcelain output becomes a per-repository error, never a malformed line', () => {
    // Arguments: --no-optional-locks -C DIR ...; $3 is the repository.
    const env = withGit('malformed', `#!/bin/sh
case "$*" in
  *--version*) echo 'git version 2.40.0' ;;
  *" status "*)
    case "$3" in
      */bad-header) printf '# branch.oid %s\\n# branch.head main\\n# branch.ab +x -1\\n' 0123456789012345678901234567890123456789 ;;
      *) printf 'this is not porcelain\\n1 ZZ what\\n' ;;
    esac ;;
  *) echo 'nonsense' ;;
esac
`);
    const c = collect(`[collectors.repos]\nroots = ${tomlList([base])}\n`, env);
    assert.equal(c.code, 0, JSON.stringify(c.outcome));
    assertWellFormed(c);
    assertRunLine(c, 'ok', 8);
    const header = c.byPath.get(path.join(base, 'bad-header'))!;
    assert.match(header.error, /^git status printed unexpected output: malformed header "# branch.ab \+x -1"/);
    const garbage = c.byPath.get(path.join(base, 'garbage'))!;
    assert.match(garbage.error, /^git status printed unexpected output: 2 unrecognised line\(s\), first: "this is not porcelain"/);
    for (const item of [header, garbage]) {
      assert.equal(item.branch, null);
      assert.equal(item.dirty_files, null);
      assert.equal(item.last_commit_at, null);
    }
  });

  test('a hanging git is cut off per call and the run ends within its timeout', () => {
    const env = withGit('hang', '#!/bin/sh\nsleep 60\n');
    const c = collect(`[collectors.repos]\nroots = ${tomlList([base])}\ntimeout_seconds = 10\n`, env);
    assert.equal(c.code, 0, JSON.stringify(c.outcome));
    assertWellFormed(c);
    const run = assertRunLine(c, 'ok', c.lines.length);
    assert.ok(run.duration_ms < 10_000, `took ${run.duration_ms} ms`);
    assert.ok(c.lines.length >= 1 && c.lines.length < 8, `${c.lines.length} repositories checked`);
    for (const l of c.lines) assert.equal(l.data.error, 'git status timed out after 1s');
    assert.ok(run.warnings.some((w: string) => new RegExp(`checked ${c.lines.length} of 8 repositories`).test(w)), run.warnings.join('\n'));
  });

  test('a git that floods its output fails the run with a clear error and stores nothing', () => {
    const env = withGit('flood', '#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo "noise noise noise noise noise noise" >&2; i=$((i+1)); done\nexit 1\n');
    const c = collect(`[collect]\nmax_output_bytes = 4096\n[collectors.repos]\nroots = ${tomlList([base])}\n`, env);
    assert.equal(c.code, 1);
    assert.deepEqual(c.lines, []);
    const run = assertRunLine(c, 'error', 0);
    assert.match(run.error, /repos scan on local printed more than 4096 bytes/);
  });
});

describe('repos parsing', () => {
  const oid = 'a'.repeat(40);

  test('a status summary with every header', () => {
    const s = parseStatusSummary(`# branch.oid ${oid}\n# branch.head feat/x\n# branch.upstream origin/feat/x\n# branch.ab +3 -0\n# stash 2\n# branch.future something\n@counts 5 2 1 7\n`);
    assert.deepEqual(s, {
      head: oid, branch: 'feat/x', detached: false, upstream: 'origin/feat/x', ahead: 3, behind: 0, stash: 2,
      changed: 5, staged: 2, conflicted: 1, untracked: 7,
    });
  });

  test('initial and detached states', () => {
    assert.equal(parseStatusSummary('# branch.oid (initial)\n# branch.head main\n@counts 0 0 0 0\n').head, null);
    const d = parseStatusSummary(`# branch.oid ${oid}\n# branch.head (detached)\n@counts 0 0 0 0\n`);
    assert.equal(d.detached, true);
    assert.equal(d.branch, null);
    assert.equal(d.stash, null);
  });

  test('malformed summaries throw with the reason', () => {
    assert.throws(() => parseStatusSummary('@counts 0 0 0 0\n'), /no branch.oid\/branch.head header/);
    assert.throws(() => parseStatusSummary(`# branch.oid ${oid}\n# branch.head main\n`), /no entry counts/);
    assert.throws(() => parseStatusSummary('# branch.oid xyz\n# branch.head main\n@counts 0 0 0 0\n'), /malformed header "# branch.oid xyz"/);
    assert.throws(() => parseStatusSummary(`# branch.oid ${oid}\n# branch.head main\n# stash many\n@counts 0 0 0 0\n`), /malformed header/);
    assert.throws(() => parseStatusSummary(`# branch.oid ${oid}\n# branch.head main\n@counts 0 0 0 0\n@bad 1 zz\n`), /1 unrecognised line/);
    assert.throws(() => parseStatusSummary(`# branch.oid ${oid}\n# branch.head main\nfree text\n@counts 0 0 0 0\n`), /unexpected line "free text"/);
  });

  test('last commit: time, subject cut to 200 characters, garbage refused', () => {
    assert.deepEqual(parseLastCommit('1714564800\x1fhello\n'), { at: '2024-05-01T12:00:00.000Z', subject: 'hello' });
    assert.equal(parseLastCommit(`1714564800\x1f${'x'.repeat(500)}\n`).subject.length, 200);
    // A cut must not leave half of a surrogate pair behind.
    assert.equal(parseLastCommit(`1714564800\x1f${'x'.repeat(199)}😀\n`).subject, 'x'.repeat(199));
    assert.throws(() => parseLastCommit('not a commit\n'), /unexpected output/);
    assert.throws(() => parseLastCommit(''), /unexpected output/);
  });

  test('credentials are stripped from remote URLs', () => {
    const cases: Array<[string, string]> = [
      ['https://user:pa:ss@github.com/o/r.git', 'https://github.com/o/r.git'],
      ['https://ghp_token123@github.com/o/r.git', 'https://github.com/o/r.git'],
      ['https://x-access-token:tok@weird@host.example/o/r', 'https://host.example/o/r'],
      ['ssh://git@github.com/o/r.git', 'ssh://git@github.com/o/r.git'],
      ['ssh://git:pw@github.com/o/r.git', 'ssh://github.com/o/r.git'],
      ['git@github.com:o/r.git', 'git@github.com:o/r.git'],
      ['git:pw@github.com:o/r.git', 'git@github.com:o/r.git'],
      ['https://github.com/o/r.git', 'https://github.com/o/r.git'],
      ['/srv/git/r.git', '/srv/git/r.git'],
      ['https://github.com/o/r@v1.git', 'https://github.com/o/r@v1.git'],
    ];
    for (const [url, want] of cases) assert.equal(redactUrl(url), want, url);
  });

  test('roots become quoted sh words that the shell reads back exactly', () => {
    const sh = (word: string) => spawnSync('sh', ['-c', `printf '%s' ${word}`], { env: { ...process.env, HOME: '/h o/me' }, encoding: 'utf8' }).stdout;
    assert.equal(sh(shQuote(`it's "a" $(x) \`y\` \\ path`)), `it's "a" $(x) \`y\` \\ path`);
    assert.equal(sh(rootWord('~').word), '/h o/me/');
    assert.equal(sh(rootWord("~/it's/").word), "/h o/me/it's/");
    assert.equal(sh(rootWord('src').word), '/h o/me/src/');
    assert.equal(sh(rootWord("/abs/$HOME'x").word), "/abs/$HOME'x/");
    assert.equal(sh(rootWord('/').word), '/');
    assert.equal(rootWord('/abs').home, false);
    assert.equal(rootWord('~/x').home, true);
  });

  test('the time plan always leaves room to report before the collector timeout', () => {
    for (const timeout of [1, 5, 10, 30, 60, 600]) {
      const p = planBudget(timeout, 10);
      assert.ok(p.gitSeconds >= 1 && p.discoverySeconds >= 1 && p.budgetSeconds >= 1);
      if (timeout >= 10) assert.ok(p.budgetSeconds + 3 * p.gitSeconds + 2 <= timeout, `timeout ${timeout}: ${JSON.stringify(p)}`);
      assert.ok(p.discoverySeconds <= Math.max(1, timeout / 2));
    }
    assert.deepEqual(planBudget(60, 10), { timeoutSeconds: 60, gitSeconds: 5, discoverySeconds: 10, budgetSeconds: 43 });
  });

  test('records split only on this run\'s marker; a forged marker in git output stays data', () => {
    const mark = '@@vcr-0011223344556677@@';
    const forged = '\n@@vcr-ffffffffffffffff@@ repo\n/evil\n';
    const text = `\n${mark} repo\n/r/one\n${mark} err status\nwarning: x${forged}\n${mark} out status\n# branch.oid (initial)\n# branch.head main\n@counts 0 0 0 1\n\n${mark} rc status 0\n\n${mark} err url\n\n${mark} out url\n\n${mark} rc url 1\n\n${mark} repo\n/r/two\n${mark} err status\nfatal: nope\n\n${mark} out status\n@counts 0 0 0 0\n\n${mark} rc status 128\n\n${mark} stop\n`;
    const { records, stopped } = parseRepoRecords(text, mark);
    assert.equal(stopped, true);
    assert.deepEqual(records.map((r) => r.path), ['/r/one', '/r/two']);
    assert.equal(records[0]!.calls.get('status')!.stderr, `warning: x${forged}`);
    const env = { haveTimeout: true, gitVersion: [2, 40] as [number, number] };
    const plan = planBudget(60, 10);
    const one = repoFromRecord(records[0]!, env, plan);
    assert.equal(one.untracked_files, 1);
    assert.equal(one.stash_count, 0);
    assert.equal(one.error, null);
    assert.equal(repoFromRecord(records[0]!, { haveTimeout: true, gitVersion: [2, 30] }, plan).stash_count, null);
    assert.equal(repoFromRecord(records[1]!, env, plan).error, 'git status exited with 128: fatal: nope');
  });
});
