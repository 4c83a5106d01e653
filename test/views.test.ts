// Given rows -> expected rows: the SQL views (sql/*.sql, views/v1/*.sql) over hand-made envelopes
// in exactly the stored format, read by a session with a fixed `now`, configured machines and
// collection intervals. Each case states only what matters; the builders below fill in the rest
// with healthy, schema-valid values.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runEnvelope, type RunStatus } from '../lib/collector.ts';
import { openSession, type Row, type Session } from '../lib/duck.ts';
import type { Envelope } from '../lib/envelope.ts';
import { storable } from '../lib/envelope.ts';
import { rawFile, utcDate } from '../lib/paths.ts';
import { appendEnvelopes } from '../lib/store.ts';
import { agentsSchema, type AgentsItem } from '../lib/sources/agents.ts';
import { reposSchema, type RepoData } from '../lib/sources/repos.ts';
import { parseSysOutput, sysSchema, type SysData } from '../lib/sources/sys.ts';
import type { Section } from '../lib/sections.ts';
import { writeFleet } from '../fixtures/fleet.ts';
import { materializeHealthFactors, SHARED_VIEWS } from '../lib/report.ts';
import { repoRoot } from '../lib/paths.ts';
import { tmpDir } from './helpers.ts';

// ---------------------------------------------------------------------------------------------
// Builders

const NOW = new Date('2026-03-10T12:00:00.000Z');
const MIN = 60_000;
const GiB = 1024 ** 3;
const INTERVALS = { sys: 120, repos: 600, agents: 120 };

/** ISO time `min` minutes before `from` (NOW by default). */
const ago = (min: number, from: Date = NOW) => new Date(from.getTime() - min * MIN).toISOString();
/** Every `step` minutes from `fromMin` minutes ago up to `toMin` minutes ago, oldest first. */
const every = (step: number, fromMin: number, toMin = 0) => {
  const out: number[] = [];
  for (let m = fromMin; m >= toMin; m -= step) out.push(m);
  return out;
};

type Filesystem = SysData['filesystems'][number];
type Proc = SysData['top_cpu'][number];

function filesystem(over: Partial<Filesystem> = {}): Filesystem {
  return {
    mount: '/', device: '/dev/nvme0n1p2', fstype: 'ext4', size_bytes: 100 * GiB, used_bytes: 40 * GiB,
    avail_bytes: 55 * GiB, inodes: 1_000_000, inodes_used: 100_000, ...over,
  };
}

/** A filesystem `usedPct` % full as df counts it: used / (used + avail), with 5% root-reserved on top. */
function filesystemAt(mount: string, usedPct: number, over: Partial<Filesystem> = {}): Filesystem {
  const usable = 1000 * GiB;
  const used = Math.round((usable * usedPct) / 100);
  return filesystem({ mount, size_bytes: usable + 50 * GiB, used_bytes: used, avail_bytes: usable - used, ...over });
}

function proc(over: Partial<Proc> = {}): Proc {
  return {
    pid: 4242, ppid: 1, user: 'dev', comm: 'python3', args: 'python3 train.py', state: 'R', cpu_pct: 99.5,
    rss_bytes: 2 * GiB, started_at: '2026-03-10T06:00:00.000Z', ...over,
  };
}

/** A healthy sys sample; pass only what the case is about. */
function sysSample(over: Partial<SysData> = {}): SysData {
  return sysSchema.parse({
    load1: 0.5, load5: 0.5, load15: 0.5, cpu_count: 4, cpu_util: 0.12, uptime_s: 86_400,
    boot_time: '2026-03-09T12:00:00.000Z', mem_total_bytes: 16 * GiB, mem_available_bytes: 8 * GiB,
    swap_total_bytes: 4 * GiB, swap_free_bytes: 4 * GiB, oom_kills: 0, inotify_max_user_watches: 65_536,
    inotify_max_user_instances: 128, inotify_watches_used: 1000, inotify_instances_used: 10, process_count: 200,
    filesystems: [filesystem()], top_cpu: [], top_mem: [], ...over,
  });
}

function repo(name: string, over: Partial<RepoData> = {}): RepoData {
  return reposSchema.parse({
    path: `/home/dev/src/${name}`, name, branch: 'main', head: 'a'.repeat(40), detached: false, upstream: 'origin/main',
    ahead: 0, behind: 0, dirty_files: 0, staged_files: 0, untracked_files: 0, conflicted_files: 0, stash_count: 0,
    last_commit_at: '2026-03-10T09:00:00.000Z', last_commit_subject: 'fix flaky test', remote_url: null, error: null, ...over,
  });
}

const AGENT_BLANK = Object.fromEntries(Object.keys(agentsSchema.options[0].shape).filter((k) => k !== 'type').map((k) => [k, null]));

function tmuxSession(name: string, over: Record<string, unknown> = {}): AgentsItem {
  return agentsSchema.parse({
    ...AGENT_BLANK, type: 'session', session: name, session_id: `$${name}`, session_created_at: '2026-03-10T08:00:00.000Z',
    session_activity_at: '2026-03-10T11:58:00.000Z', session_attached: false, session_windows: 1, ...over,
  });
}

function pane(session: string, paneId: string, agent: string | null, over: Record<string, unknown> = {}): AgentsItem {
  return agentsSchema.parse({
    ...AGENT_BLANK, type: 'pane', session, window_index: 0, window_name: agent ?? 'bash', pane_index: Number(paneId.slice(1)),
    pane_id: paneId, pane_pid: 1000 + Number(paneId.slice(1)), pane_command: agent ?? 'bash', pane_path: '/home/dev/src/api',
    pane_dead: false, pane_activity_at: '2026-03-10T11:58:00.000Z', agent, ...over,
  });
}

function agentProc(pid: number, cpuSeconds: number, over: Record<string, unknown> = {}): AgentsItem {
  return agentsSchema.parse({
    ...AGENT_BLANK, type: 'process', pid, ppid: 1000, agent: 'claude', comm: 'claude', args: 'claude --continue',
    cwd: '/home/dev/src/api', state: 'S', cpu_seconds: cpuSeconds, rss_bytes: 400 * 1024 * 1024,
    started_at: '2026-03-10T08:00:00.000Z', user: 'dev', ...over,
  });
}

/** One stored line's envelope, exactly as lib/collector.ts builds it. */
function envelopeOf(source: string, machine: string, at: string, runId: string, data: unknown, key?: string): Envelope {
  return {
    v: 1, source, machine_id: machine, collected_at: at, run_id: runId, collector_version: '1.0.0', schema_version: 1,
    kind: 'snapshot', ...(key !== undefined ? { key } : {}), data: storable(data),
  };
}

interface RunOpts { runId?: string; rows?: number; status?: RunStatus; error?: string | null; durationMs?: number }

/** A data dir being filled with envelopes; `open` stores them (appendEnvelopes) and opens a session. */
class Store {
  readonly dir = tmpDir('vc-views-');
  private pending: Envelope[] = [];
  private seq = 0;

  nextRunId(machine: string): string {
    return `${machine}-run-${String(++this.seq).padStart(4, '0')}`;
  }

  envelope(source: string, machine: string, at: string, runId: string, data: unknown, key?: string): Envelope {
    const env = envelopeOf(source, machine, at, runId, data, key);
    this.pending.push(env);
    return env;
  }

  /** Writes text as it is into a day file, bypassing the store: for damaged files. */
  writeRaw(source: string, machine: string, day: string, text: string): string {
    const file = rawFile(this.dir, source, machine, day);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, text);
    return file;
  }

  /** The collector_runs line of one run that started at `at` (what lib/collector.ts and lib/runner.ts write). */
  run(machine: string, source: string, at: string, opts: RunOpts = {}): string {
    const runId = opts.runId ?? this.nextRunId(machine);
    const status = opts.status ?? 'ok';
    const ended = new Date(Date.parse(at) + (opts.durationMs ?? 0)).toISOString();
    this.pending.push(runEnvelope(machine, runId, {
      source, started_at: at, ended_at: ended, duration_ms: opts.durationMs ?? 0, bytes: 0, rows: opts.rows ?? 0,
      status, error: opts.error ?? (status === 'ok' ? null : 'collector failed'), warnings: [], cursor: null,
    }));
    return runId;
  }

  /** One successful sys run at `at` (its sample plus its collector_runs line). */
  sys(machine: string, at: string, data: SysData = sysSample(), opts: RunOpts & { record?: boolean } = {}): string {
    const runId = opts.runId ?? this.nextRunId(machine);
    this.envelope('sys', machine, at, runId, data);
    if (opts.record ?? true) this.run(machine, 'sys', at, { ...opts, runId, rows: 1 });
    return runId;
  }

  /** One sys run per entry of `minutes` (minutes before `now`), each with the sample `data(minute)`. */
  sysSeries(machine: string, minutes: number[], data: (min: number) => SysData, now = NOW): void {
    for (const m of minutes) this.sys(machine, ago(m, now), data(m));
  }

  repos(machine: string, at: string, items: RepoData[], opts: RunOpts & { record?: boolean } = {}): string {
    const runId = opts.runId ?? this.nextRunId(machine);
    for (const item of items) this.envelope('repos', machine, at, runId, item, item.path);
    if (opts.record ?? true) this.run(machine, 'repos', at, { ...opts, runId, rows: items.length });
    return runId;
  }

  agents(machine: string, at: string, items: AgentsItem[], opts: RunOpts & { record?: boolean } = {}): string {
    const runId = opts.runId ?? this.nextRunId(machine);
    for (const item of items) this.envelope('agents', machine, at, runId, item);
    if (opts.record ?? true) this.run(machine, 'agents', at, { ...opts, runId, rows: items.length });
    return runId;
  }

  /** A machine that is fine on every source: a sys sample, a repos run and an agents run, just now. */
  healthy(machine: string, now = NOW): void {
    this.sys(machine, ago(1, now));
    this.repos(machine, ago(3, now), [repo('api')]);
    this.agents(machine, ago(1, now), [tmuxSession('work')]);
  }

  /** Stores what is pending, one append per day file, in time order (as collectors append). */
  async flush(): Promise<void> {
    const sorted = this.pending.map((e, i) => ({ e, i }))
      .sort((a, b) => a.e.collected_at.localeCompare(b.e.collected_at) || a.i - b.i).map(({ e }) => e);
    this.pending = [];
    if (sorted.length) await appendEnvelopes(this.dir, sorted);
  }

  async open(t: TestContext, opts: {
    now?: Date; machines?: Array<string | [string, boolean]>; intervals?: Record<string, number>;
  } = {}): Promise<Session> {
    await this.flush();
    const intervals = opts.intervals ?? INTERVALS;
    const session = await openSession({
      dataDir: this.dir, now: opts.now ?? NOW, intervals,
      machines: (opts.machines ?? []).map((m) => {
        const [id, collectable] = typeof m === 'string' ? [m, true] : m;
        // Each machine runs every collector given, at its default interval.
        const collectors = Object.entries(intervals).map(([source, interval_s]) => ({ source, interval_s }));
        return { id, ssh: collectable ? 'local' : 'demo', tags: [], collectable, collectors };
      }),
    });
    t.after(() => session.close());
    return session;
  }
}

/** Every row of a query, as plain values (timestamps as ISO strings). */
async function rows(s: Session, sql: string): Promise<Row[]> {
  return s.query(sql);
}

async function one(s: Session, sql: string): Promise<Row> {
  const r = await s.query(sql);
  assert.equal(r.length, 1, `expected one row from: ${sql}\ngot ${JSON.stringify(r)}`);
  return r[0]!;
}

/** The health factor of one machine (and subject), or undefined when there is none. */
async function factor(s: Session, machine: string, factorId: string, subject?: string): Promise<Row | undefined> {
  const r = await s.query(
    `SELECT factor_id, subject, value, severity, score, summary, evidence FROM health_factors
     WHERE machine_id = $1 AND factor_id = $2 AND subject IS NOT DISTINCT FROM $3`,
    [machine, factorId, subject ?? null]);
  assert.ok(r.length <= 1, `more than one ${factorId} factor for ${machine}/${subject}: ${JSON.stringify(r)}`);
  return r[0];
}

/** value and severity of a factor, for compact assertions. */
async function graded(s: Session, machine: string, factorId: string, subject?: string) {
  const f = await factor(s, machine, factorId, subject);
  return f ? { value: f.value, severity: f.severity } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Freshness

describe('freshness', { concurrency: true }, () => {
  test('never collected, fresh, 5 and 12 intervals late, and seen but not configured', async (t) => {
    const st = new Store();
    st.healthy('fresh');
    st.sys('late', ago(10));
    st.repos('late', ago(3), [repo('api')]);
    st.agents('late', ago(1), [tmuxSession('work')]);
    st.sys('later', ago(24));
    st.repos('later', ago(3), [repo('api')]);
    st.agents('later', ago(1), [tmuxSession('work')]);
    st.sys('stray', ago(1));
    st.sys('pair', ago(40));
    st.repos('pair', ago(40), [repo('api')]);
    st.agents('pair', ago(1), [tmuxSession('work')]);
    st.sys('quiet', ago(50));
    st.repos('quiet', ago(50), [repo('api')]);
    st.agents('quiet', ago(50), [tmuxSession('work')]);
    const s = await st.open(t, { machines: ['ghost', ['phantom', false], 'fresh', 'late', 'later', 'pair', 'quiet'] });

    assert.deepEqual(await rows(s, `SELECT machine_id, source, last_run_at, last_ok_at, age_s, age_intervals, runs_recent
      FROM source_freshness WHERE machine_id IN ('ghost', 'late', 'stray') ORDER BY ALL`), [
      { machine_id: 'ghost', source: 'agents', last_run_at: null, last_ok_at: null, age_s: null, age_intervals: null, runs_recent: 0 },
      { machine_id: 'ghost', source: 'repos', last_run_at: null, last_ok_at: null, age_s: null, age_intervals: null, runs_recent: 0 },
      { machine_id: 'ghost', source: 'sys', last_run_at: null, last_ok_at: null, age_s: null, age_intervals: null, runs_recent: 0 },
      { machine_id: 'late', source: 'agents', last_run_at: ago(1), last_ok_at: ago(1), age_s: 60, age_intervals: 0.5, runs_recent: 1 },
      { machine_id: 'late', source: 'repos', last_run_at: ago(3), last_ok_at: ago(3), age_s: 180, age_intervals: 0.3, runs_recent: 1 },
      { machine_id: 'late', source: 'sys', last_run_at: ago(10), last_ok_at: ago(10), age_s: 600, age_intervals: 5, runs_recent: 1 },
      // Not configured: only what it was seen collecting, so no "never collected" for repos or agents.
      { machine_id: 'stray', source: 'sys', last_run_at: ago(1), last_ok_at: ago(1), age_s: 60, age_intervals: 0.5, runs_recent: 1 },
    ]);

    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary, evidence->'late' AS late FROM health_factors
      WHERE factor_id = 'freshness' ORDER BY machine_id`), [
      // (evidence.late is NULL rather than [] when nothing is late: list() over no rows)
      { machine_id: 'fresh', value: 0.5, severity: 'ok', summary: 'every source is fresh', late: [] },
      // Sources in the same state are named once; every source of the machine, counted.
      { machine_id: 'ghost', value: null, severity: 'crit', summary: 'all 3 sources never collected', late: ['agents', 'repos', 'sys'] },
      { machine_id: 'late', value: 5, severity: 'warn', summary: 'sys last collected 10m ago (expected every 2m)', late: ['sys'] },
      { machine_id: 'later', value: 12, severity: 'crit', summary: 'sys last collected 24m ago (expected every 2m)', late: ['sys'] },
      { machine_id: 'pair', value: 20, severity: 'crit', summary: 'repos, sys last collected 40m ago', late: ['repos', 'sys'] },
      { machine_id: 'phantom', value: null, severity: 'crit', summary: 'all 3 sources never collected', late: ['agents', 'repos', 'sys'] },
      { machine_id: 'quiet', value: 25, severity: 'crit', summary: 'all 3 sources last collected 50m ago', late: ['agents', 'repos', 'sys'] },
      { machine_id: 'stray', value: 0.5, severity: 'ok', summary: 'every source is fresh', late: [] },
    ]);

    assert.deepEqual(await rows(s, `SELECT machine_id, configured, collectable, last_ok_at FROM machines ORDER BY machine_id`), [
      { machine_id: 'fresh', configured: true, collectable: true, last_ok_at: ago(1) },
      { machine_id: 'ghost', configured: true, collectable: true, last_ok_at: null },
      { machine_id: 'late', configured: true, collectable: true, last_ok_at: ago(1) },
      { machine_id: 'later', configured: true, collectable: true, last_ok_at: ago(1) },
      { machine_id: 'pair', configured: true, collectable: true, last_ok_at: ago(1) },
      { machine_id: 'phantom', configured: true, collectable: false, last_ok_at: null },
      { machine_id: 'quiet', configured: true, collectable: true, last_ok_at: ago(50) },
      { machine_id: 'stray', configured: false, collectable: false, last_ok_at: ago(1) },
    ]);

    const q = (m: string) => `vc query "SELECT source, ended_at, status, error FROM collector_runs WHERE machine_id = '${m}' ORDER BY ended_at DESC LIMIT 10"`;
    assert.deepEqual(await rows(s, `SELECT machine_id, severity, title, next FROM triage_items WHERE factor_id = 'freshness' ORDER BY machine_id`), [
      { machine_id: 'ghost', severity: 'crit', title: 'ghost: never collected (agents, repos, sys)', next: ['vc collect --machine ghost', q('ghost'), 'vc report machines --md'] },
      { machine_id: 'late', severity: 'warn', title: 'late: stale data (sys)', next: ['vc collect --machine late', q('late'), 'vc report machines --md'] },
      { machine_id: 'later', severity: 'crit', title: 'later: stale data (sys)', next: ['vc collect --machine later', q('later'), 'vc report machines --md'] },
      { machine_id: 'pair', severity: 'crit', title: 'pair: stale data (repos, sys)', next: ['vc collect --machine pair', q('pair'), 'vc report machines --md'] },
      // A demo machine cannot be collected: no `vc collect` for it.
      { machine_id: 'phantom', severity: 'crit', title: 'phantom: never collected (agents, repos, sys)', next: [q('phantom'), 'vc report machines --md'] },
      { machine_id: 'quiet', severity: 'crit', title: 'quiet: stale data (agents, repos, sys)', next: ['vc collect --machine quiet', q('quiet'), 'vc report machines --md'] },
    ]);
    assert.deepEqual(await rows(s, 'SELECT * FROM data_warnings'), []);
  });

  test('a fleet that never collected anything: every source is reported missing', async (t) => {
    const st = new Store();
    const s = await st.open(t, { machines: ['solo'] });
    assert.deepEqual(await rows(s, 'SELECT warning FROM data_warnings'), [
      { warning: 'no agents data has been collected yet' },
      { warning: 'no repos data has been collected yet' },
      { warning: 'no sys data has been collected yet' },
    ]);
    assert.deepEqual(await rows(s, 'SELECT source, staleness_s FROM source_staleness ORDER BY source'), [
      { source: 'agents', staleness_s: null }, { source: 'repos', staleness_s: null }, { source: 'sys', staleness_s: null },
    ]);
    assert.deepEqual(await rows(s, 'SELECT machine_id, score, severity, worst_factor FROM machine_health'), [
      { machine_id: 'solo', score: 0.2, severity: 'crit', worst_factor: 'freshness' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The last successful run of each source

describe('last_ok_runs', { concurrency: true }, () => {
  test('a run older than the window is still found in the machine\'s newest day file', async (t) => {
    const st = new Store();
    // Yesterday evening (16 h before now) and three days ago: both outside the 6 h window, and the
    // collector_runs lines of those runs sit in day files the window does not read (today has runs).
    const yesterday = '2026-03-09T20:00:00.000Z';
    const longAgo = '2026-03-07T10:00:00.000Z';
    const r1 = st.repos('m1', yesterday, [repo('api'), repo('web', { dirty_files: 2 })], { durationMs: 2000 });
    const r2 = st.repos('m2', longAgo, [repo('etl')], { durationMs: 2000 });
    st.sys('m1', ago(1));
    st.sys('m2', ago(1));
    const s = await st.open(t, { machines: ['m1', 'm2'], intervals: { sys: 120, repos: 600 } });

    assert.deepEqual(await rows(s, `SELECT machine_id, run_id, ended_at FROM last_ok_runs WHERE source = 'repos' ORDER BY machine_id`), [
      { machine_id: 'm1', run_id: r1, ended_at: yesterday },
      { machine_id: 'm2', run_id: r2, ended_at: longAgo },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, name, dirty FROM repo_status ORDER BY machine_id, name`), [
      { machine_id: 'm1', name: 'api', dirty: false },
      { machine_id: 'm1', name: 'web', dirty: true },
      { machine_id: 'm2', name: 'etl', dirty: false },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, last_ok_at, age_s, age_intervals FROM source_freshness
      WHERE source = 'repos' ORDER BY machine_id`), [
      { machine_id: 'm1', last_ok_at: yesterday, age_s: 16 * 3600, age_intervals: 96 },
      { machine_id: 'm2', last_ok_at: longAgo, age_s: 74 * 3600, age_intervals: 444 },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary FROM health_factors
      WHERE factor_id = 'freshness' ORDER BY machine_id`), [
      { machine_id: 'm1', value: 96, severity: 'crit', summary: 'repos last collected 16h ago (expected every 10m)' },
      { machine_id: 'm2', value: 444, severity: 'crit', summary: 'repos last collected 3d2h ago (expected every 10m)' },
    ]);
    // The full history still has both runs' records.
    assert.deepEqual(await rows(s, `SELECT run_id FROM collector_runs WHERE source = 'repos' ORDER BY run_id`), [{ run_id: r1 }, { run_id: r2 }]);
  });

  test('a newer successful run that stored no rows wins over older rows; a failed one does not', async (t) => {
    const st = new Store();
    st.repos('m', ago(60), [repo('api', { dirty_files: 3 }), repo('web', { untracked_files: 1 })], { durationMs: 2000 });
    const empty = st.run('m', 'repos', ago(10), { rows: 0, durationMs: 1500 });
    st.run('m', 'repos', ago(5), { status: 'error', error: 'repos probe on local timed out after 60s and was killed', durationMs: 60_000 });
    st.agents('m', ago(30), [tmuxSession('work'), pane('work', '%1', 'claude'), agentProc(5001, 10, { session: 'work', pane_id: '%1' })]);
    const noAgents = st.run('m', 'agents', ago(2), { rows: 0 });
    st.sys('m', ago(1));
    const s = await st.open(t, { machines: ['m'] });

    assert.deepEqual(await rows(s, `SELECT source, run_id, ended_at FROM last_ok_runs WHERE source <> 'sys' ORDER BY source`), [
      { source: 'agents', run_id: noAgents, ended_at: ago(2) },
      { source: 'repos', run_id: empty, ended_at: new Date(Date.parse(ago(10)) + 1500).toISOString() },
    ]);
    assert.deepEqual(await rows(s, 'SELECT * FROM latest_repos'), []);
    assert.deepEqual(await rows(s, 'SELECT * FROM latest_agents'), []);
    assert.deepEqual(await graded(s, 'm', 'dirty_repos'), { value: 0, severity: 'ok' });
    assert.deepEqual(await rows(s, 'SELECT tmux_sessions, agents, active, idle, stopped, dead_panes FROM agent_machines'), [
      { tmux_sessions: 0, agents: 0, active: 0, idle: 0, stopped: 0, dead_panes: 0 },
    ]);
    assert.deepEqual(await rows(s, `SELECT last_run_at, last_status, last_error, runs_recent, failures_recent FROM source_freshness
      WHERE source = 'repos'`), [{
      last_run_at: new Date(Date.parse(ago(5)) + 60_000).toISOString(), last_status: 'error',
      last_error: 'repos probe on local timed out after 60s and was killed', runs_recent: 3, failures_recent: 1,
    }]);
    assert.deepEqual(await graded(s, 'm', 'collector_failures', 'repos'), { value: 33.3, severity: 'warn' });
  });

  test('an empty successful run older than the window still wins over the older rows before it', {
    todo: 'views/v1/10_latest.sql last_ok_runs: collector_runs_recent keeps each machine\'s newest day, not each source\'s, so an empty run recorded on an older day is not seen and the rows of the run before it come back',
  }, async (t) => {
    const st = new Store();
    st.repos('m', '2026-03-09T20:00:00.000Z', [repo('api'), repo('web')]);
    // 10 minutes later the repos collector found nothing (the source tree was moved away) ...
    const empty = st.run('m', 'repos', '2026-03-09T20:10:00.000Z', { rows: 0 });
    // ... and every repos run since has failed; sys runs on as usual.
    st.run('m', 'repos', ago(30), { status: 'timeout', error: 'repos probe timed out' });
    st.sys('m', ago(1));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await rows(s, `SELECT run_id, ended_at FROM last_ok_runs WHERE source = 'repos'`), [
      { run_id: empty, ended_at: '2026-03-09T20:10:00.000Z' },
    ]);
    assert.deepEqual(await rows(s, 'SELECT name FROM latest_repos'), []);
  });

  test('a large run older than the window is found whole, not cut at the tail\'s byte limit', async (t) => {
    const st = new Store();
    const many = Array.from({ length: 800 }, (_, i) => repo(`project-${String(i).padStart(3, '0')}`, {
      last_commit_subject: `project ${i}: ${'refactor the request pipeline '.repeat(5)}`.slice(0, 150),
      remote_url: `git@github.com:example/project-${i}.git`, dirty_files: i % 2,
    }));
    const big = st.repos('m', '2026-03-09T20:00:00.000Z', many);
    st.sys('m', ago(1));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await rows(s, `SELECT run_id FROM last_ok_runs WHERE source = 'repos'`), [{ run_id: big }]);
    assert.deepEqual(await one(s, 'SELECT count(*) AS n, count(*) FILTER (WHERE dirty) AS dirty FROM repo_status'), { n: 800, dirty: 400 });
  });

  test('a large run inside the window is found whole', async (t) => {
    const st = new Store();
    const many = Array.from({ length: 800 }, (_, i) => repo(`project-${String(i).padStart(3, '0')}`, {
      last_commit_subject: `project ${i}: ${'refactor the request pipeline '.repeat(5)}`.slice(0, 150),
      remote_url: `git@github.com:example/project-${i}.git`, dirty_files: i % 2,
    }));
    st.repos('m', ago(60), many);
    st.sys('m', ago(1));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await one(s, 'SELECT count(*) AS n, count(*) FILTER (WHERE dirty) AS dirty FROM repo_status'), { n: 800, dirty: 400 });
  });

  test('collector_runs: a run recorded twice (by the collector, then by the runner) counts once', async (t) => {
    const st = new Store();
    const runId = st.sys('m', ago(4), sysSample(), { durationMs: 800 });
    // The runner timed out waiting for the collector's exit and recorded the same run again.
    st.run('m', 'sys', ago(4), { runId, status: 'timeout', error: 'collector sys killed after 35s (collector timeout plus grace)', durationMs: 35_000 });
    const next = st.sys('m', ago(2));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });

    assert.deepEqual(await rows(s, `SELECT run_id, status FROM collector_runs ORDER BY ended_at`), [
      { run_id: runId, status: 'ok' },
      { run_id: next, status: 'ok' },
    ]);
    assert.deepEqual(await one(s, `SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM collector_runs_recent`), { n: 2, runs: 2 });
    assert.deepEqual(await rows(s, `SELECT runs_recent, failures_recent, last_status FROM source_freshness`), [
      { runs_recent: 2, failures_recent: 0, last_status: 'ok' },
    ]);
    assert.deepEqual(await graded(s, 'm', 'collector_failures', 'sys'), { value: 0, severity: 'ok' });
  });
});

// ---------------------------------------------------------------------------------------------
// sys factors

/** Sections as the sys script prints them, for parseSysOutput (the collector's own parser). */
function sysSections(mounts: string, df: string, dfi: string): Map<string, Section> {
  const sec = (text: string): Section => ({ text, rc: 0 });
  const btime = Date.parse('2026-03-09T12:00:00.000Z') / 1000;
  return new Map([
    ['loadavg', sec('0.50 0.40 0.30 1/200 1234\n')],
    ['uptime', sec('86400.00 300000.00\n')],
    ['meminfo', sec('MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n')],
    ['vmstat', sec('oom_kill 0\n')],
    ['inotify_limits', sec('65536\n128\n')],
    ['clk', sec('100\n4096\n')],
    ['stat1', sec(`cpu 100 0 100 800 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0\nbtime ${btime}\n`)],
    ['procs1', sec('')],
    ['stat2', sec(`cpu 150 0 150 900 0 0 0 0\ncpu0 150 0 150 900 0 0 0 0\nbtime ${btime}\n`)],
    ['procs2', sec('')],
    ['ps', sec('')],
    ['mounts', sec(mounts)],
    ['df', sec(df)],
    ['dfi', sec(dfi)],
  ]);
}

describe('sys factors', { concurrency: true }, () => {
  test('disk: used % as df computes it (used / (used + avail)), thresholds, inodes', async (t) => {
    const st = new Store();
    st.sys('m', ago(1), sysSample({
      filesystems: [
        filesystemAt('/', 50),
        filesystemAt('/data', 85),
        filesystemAt('/scratch', 95, { inodes: null, inodes_used: null }),
        filesystemAt('/home', 40, { inodes: 1000, inodes_used: 960 }),
        filesystemAt('/var', 20, { inodes: 1000, inodes_used: 850 }),
      ],
    }));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });

    // size counts 50 GiB of root-reserved blocks that are in neither used nor avail: used/size would say 81%, not 85%.
    assert.deepEqual(await rows(s, `SELECT mount, used_pct, inodes_used_pct FROM machine_filesystems ORDER BY mount`), [
      { mount: '/', used_pct: 50, inodes_used_pct: 10 },
      { mount: '/data', used_pct: 85, inodes_used_pct: 10 },
      { mount: '/home', used_pct: 40, inodes_used_pct: 96 },
      { mount: '/scratch', used_pct: 95, inodes_used_pct: null },
      { mount: '/var', used_pct: 20, inodes_used_pct: 85 },
    ]);
    assert.deepEqual(await rows(s, `SELECT factor_id, subject, value, severity FROM health_factors
      WHERE factor_id IN ('disk_used', 'disk_inodes') ORDER BY factor_id, subject`), [
      { factor_id: 'disk_inodes', subject: '/', value: 10, severity: 'ok' },
      { factor_id: 'disk_inodes', subject: '/data', value: 10, severity: 'ok' },
      { factor_id: 'disk_inodes', subject: '/home', value: 96, severity: 'crit' },
      // no inode figures for /scratch: no inodes factor rather than an invented 0
      { factor_id: 'disk_inodes', subject: '/var', value: 85, severity: 'warn' },
      { factor_id: 'disk_used', subject: '/', value: 50, severity: 'ok' },
      { factor_id: 'disk_used', subject: '/data', value: 85, severity: 'warn' },
      { factor_id: 'disk_used', subject: '/home', value: 40, severity: 'ok' },
      { factor_id: 'disk_used', subject: '/scratch', value: 95, severity: 'crit' },
      { factor_id: 'disk_used', subject: '/var', value: 20, severity: 'ok' },
    ]);
    assert.deepEqual(await rows(s, `SELECT subject, title, next FROM triage_items WHERE factor_id = 'disk_used' ORDER BY rank`), [
      { subject: '/scratch', title: 'm: /scratch is 95.0% full', next: [
        `vc query "SELECT mount, used_pct, avail_bytes, size_bytes FROM machine_filesystems WHERE machine_id = 'm' ORDER BY used_pct DESC"`,
        'vc report machines --md'] },
      { subject: '/data', title: 'm: /data is 85.0% full', next: [
        `vc query "SELECT mount, used_pct, avail_bytes, size_bytes FROM machine_filesystems WHERE machine_id = 'm' ORDER BY used_pct DESC"`,
        'vc report machines --md'] },
    ]);
  });

  test('disk: pseudo filesystems from the collector\'s own parser never reach the views', async (t) => {
    const mounts = [
      '/dev/sda1 / ext4 rw,relatime 0 0', 'proc /proc proc rw 0 0', 'tmpfs /run tmpfs rw 0 0',
      '/dev/loop3 /snap/core/17 squashfs ro 0 0', 'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
      '/dev/sdb1 /data xfs rw 0 0', 'devtmpfs /dev devtmpfs rw 0 0',
    ].join('\n') + '\n';
    const df = [
      'Filesystem 1024-blocks Used Available Capacity Mounted on',
      '/dev/sda1 1000000 500000 450000 53% /',
      'tmpfs 800000 800000 0 100% /run',
      'devtmpfs 4000000 0 4000000 0% /dev',
      '/dev/loop3 1000 1000 0 100% /snap/core/17',
      '/dev/sdb1 2000000 1000000 1000000 50% /data',
    ].join('\n') + '\n';
    const dfi = [
      'Filesystem Inodes IUsed IFree IUse% Mounted on',
      '/dev/sda1 65536 6554 58982 10% /',
      'tmpfs 1000 1000 0 100% /run',
      '/dev/sdb1 0 0 0 - /data',
    ].join('\n') + '\n';
    const data = sysSchema.parse(parseSysOutput(sysSections(mounts, df, dfi)));
    const st = new Store();
    st.sys('m', ago(1), data);
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT mount, fstype, used_pct, inodes, inodes_used_pct FROM machine_filesystems ORDER BY mount`), [
      { mount: '/', fstype: 'ext4', used_pct: 52.6, inodes: 65536, inodes_used_pct: 10 },
      { mount: '/data', fstype: 'xfs', used_pct: 50, inodes: null, inodes_used_pct: null },
    ]);
    assert.deepEqual(await rows(s, `SELECT subject FROM health_factors WHERE factor_id LIKE 'disk%' ORDER BY ALL`),
      [{ subject: '/' }, { subject: '/' }, { subject: '/data' }]);
  });

  test('memory and swap: no swap is ok with a null value; 60% swap warns', async (t) => {
    const st = new Store();
    st.sys('noswap', ago(1), sysSample({ swap_total_bytes: 0, swap_free_bytes: 0 }));
    st.sys('swapping', ago(1), sysSample({ swap_total_bytes: 10 * GiB, swap_free_bytes: 4 * GiB }));
    st.sys('tight', ago(1), sysSample({ mem_total_bytes: 100 * GiB, mem_available_bytes: 8 * GiB }));
    st.sys('starved', ago(1), sysSample({ mem_total_bytes: 100 * GiB, mem_available_bytes: 4 * GiB }));
    const s = await st.open(t, { machines: ['noswap', 'swapping', 'tight', 'starved'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, factor_id, value, severity, summary FROM health_factors
      WHERE factor_id IN ('memory', 'swap') ORDER BY machine_id, factor_id`), [
      { machine_id: 'noswap', factor_id: 'memory', value: 50, severity: 'ok', summary: '8.0 GiB available of 16.0 GiB (50.0%)' },
      { machine_id: 'noswap', factor_id: 'swap', value: null, severity: 'ok', summary: 'no swap configured' },
      { machine_id: 'starved', factor_id: 'memory', value: 4, severity: 'crit', summary: '4.0 GiB available of 100.0 GiB (4.0%)' },
      { machine_id: 'starved', factor_id: 'swap', value: 0, severity: 'ok', summary: '0 bytes of 4.0 GiB swap in use (0.0%)' },
      { machine_id: 'swapping', factor_id: 'memory', value: 50, severity: 'ok', summary: '8.0 GiB available of 16.0 GiB (50.0%)' },
      { machine_id: 'swapping', factor_id: 'swap', value: 60, severity: 'warn', summary: '6.0 GiB of 10.0 GiB swap in use (60.0%)' },
      { machine_id: 'tight', factor_id: 'memory', value: 8, severity: 'warn', summary: '8.0 GiB available of 100.0 GiB (8.0%)' },
      { machine_id: 'tight', factor_id: 'swap', value: 0, severity: 'ok', summary: '0 bytes of 4.0 GiB swap in use (0.0%)' },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, factor_id, title, fix FROM triage_items ORDER BY rank`), [
      { machine_id: 'starved', factor_id: 'memory', title: 'starved: only 4.0% of memory available', fix: 'free -h' },
      { machine_id: 'tight', factor_id: 'memory', title: 'tight: only 8.0% of memory available', fix: 'free -h' },
      { machine_id: 'swapping', factor_id: 'swap', title: 'swapping: 60.0% of swap in use', fix: 'free -h' },
    ]);
  });

  test('swap rising: growth over 30 minutes in points of the swap size; flat or unused swap is no factor', async (t) => {
    const st = new Store();
    // rising: 10 GiB swap, used grows 0.1 GiB a minute: 2.8 GiB between the samples of the last 30 min (28 min apart).
    st.sysSeries('rising', every(2, 40), (m) => sysSample({ swap_total_bytes: 10 * GiB, swap_free_bytes: Math.round(10 * GiB - (4 - 0.1 * m) * GiB) }));
    st.sysSeries('flat', every(2, 40), () => sysSample({ swap_total_bytes: 10 * GiB, swap_free_bytes: 6 * GiB }));
    st.sysSeries('unused', every(2, 40), () => sysSample());
    const s = await st.open(t, { machines: ['rising', 'flat', 'unused'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity FROM health_factors WHERE factor_id = 'swap_rising' ORDER BY machine_id`), [
      { machine_id: 'flat', value: 0, severity: 'ok' },
      { machine_id: 'rising', value: 28, severity: 'crit' },
    ]);
  });

  test('disk full forecast: a steady fall of free space gives an ETA and a factor; a flat or noisy one none', async (t) => {
    const st = new Store();
    // filling: 100 GiB free 3 h ago, 1 GiB less every 2 minutes (30 GiB/h): 10 GiB free now, 20 minutes to go.
    st.sysSeries('filling', every(2, 180), (m) => sysSample({ filesystems: [filesystem({ mount: '/data', avail_bytes: Math.round((10 + m / 2) * GiB) })] }));
    st.sysSeries('slow', every(2, 180), (m) => sysSample({ filesystems: [filesystem({ mount: '/', avail_bytes: Math.round((50 + m / 180) * GiB) })] }));
    st.sysSeries('flat', every(2, 180), () => sysSample());
    st.sysSeries('noisy', every(2, 180), (m) => sysSample({ filesystems: [filesystem({ avail_bytes: Math.round((50 + (m % 4 === 0 ? 20 : -20) + m / 60) * GiB) })] }));
    const s = await st.open(t, { machines: ['filling', 'slow', 'flat', 'noisy'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, kind, subject, hours_left, confidence, eta FROM predictions ORDER BY machine_id`), [
      { machine_id: 'filling', kind: 'disk_full', subject: '/data', hours_left: 0.3, confidence: 1, eta: ago(-20) },
      // A third of a GiB an hour, 50 GiB left: 150 h, within the 7-day horizon.
      { machine_id: 'slow', kind: 'disk_full', subject: '/', hours_left: 150, confidence: 1, eta: ago(-9000) },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, title, fix FROM health_factors WHERE factor_id = 'disk_full_eta' ORDER BY machine_id`), [
      { machine_id: 'filling', value: 0.3, severity: 'crit', title: 'filling: /data full in ~20m', fix: "du -xh --max-depth=2 '/data' | sort -h | tail -20" },
      { machine_id: 'slow', value: 150, severity: 'ok', title: 'slow: / full in ~6d6h', fix: "du -xh --max-depth=2 '/' | sort -h | tail -20" },
    ]);
    const item = await one(s, `SELECT title, next FROM triage_items WHERE factor_id = 'disk_full_eta'`);
    assert.equal(item.title, 'filling: /data full in ~20m');
    assert.deepEqual(item.next, [
      `vc query "SELECT mount, used_pct, avail_bytes, size_bytes FROM machine_filesystems WHERE machine_id = 'filling' ORDER BY used_pct DESC"`,
      `vc query "SELECT kind, subject, eta, hours_left, confidence FROM predictions WHERE machine_id = 'filling'"`,
      'vc report machines --md',
    ]);
  });

  test('anomaly: the last 10 minutes against the recent baseline, robustly (median, MAD); old spikes do not hide a new one', async (t) => {
    const st = new Store();
    // jumped: processes ~200 (+-4) for 3 h with two old spikes, then 400 in the last 10 minutes.
    // (The spread is floored at 5% of the baseline, 10 processes: 200 more is z 20.)
    st.sysSeries('jumped', every(2, 180), (m) => sysSample({ process_count: m < 10 ? 400 : m === 100 || m === 60 ? 900 : 200 + (m % 3) * 4 - 4 }));
    st.sysSeries('steady', every(2, 180), () => sysSample({ process_count: 200 }));
    const s = await st.open(t, { machines: ['jumped', 'steady'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, metric, value, baseline, mad, z FROM anomalies WHERE metric = 'processes' ORDER BY machine_id`), [
      { machine_id: 'jumped', metric: 'processes', value: 400, baseline: 200, mad: 5.93, z: 20 },
      { machine_id: 'steady', metric: 'processes', value: 200, baseline: 200, mad: 0, z: 0 },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, subject, value, severity, title FROM health_factors WHERE factor_id = 'anomaly' AND severity <> 'ok'`), [
      { machine_id: 'jumped', subject: 'processes', value: 20, severity: 'crit', title: 'jumped: processes unusually high (400.0 vs 200.0 usual)' },
    ]);
  });

  test('load: a single spike is not a warning; load held for 10 minutes is', async (t) => {
    const st = new Store();
    // 4 cores. spike: low for half an hour, then one sample at 3.0 per core, 2 minutes ago (the newest).
    st.sysSeries('spike', every(2, 30, 2), (m) => sysSample({ load5: m === 2 ? 12 : 0.8 }));
    st.sysSeries('busy', every(2, 30, 2), () => sysSample({ load5: 8 }));
    st.sysSeries('melting', every(2, 30, 2), () => sysSample({ load5: 14 }));
    // high for the last 6 minutes only: the sample 8 minutes before the newest is still low
    st.sysSeries('rising', every(2, 30, 2), (m) => sysSample({ load5: m <= 8 ? 14 : 0.8 }));
    const s = await st.open(t, { machines: ['spike', 'busy', 'melting', 'rising'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary, evidence->>'samples_10m' AS samples FROM health_factors
      WHERE factor_id = 'load' ORDER BY machine_id`), [
      { machine_id: 'busy', value: 2, severity: 'warn', summary: 'load5 8.0 on 4 cores (2.0 per core); lowest per-core load5 in the last 10 min: 2.0', samples: '5' },
      { machine_id: 'melting', value: 3.5, severity: 'crit', summary: 'load5 14.0 on 4 cores (3.5 per core); lowest per-core load5 in the last 10 min: 3.5', samples: '5' },
      { machine_id: 'rising', value: 0.2, severity: 'ok', summary: 'load5 14.0 on 4 cores (3.5 per core); lowest per-core load5 in the last 10 min: 0.2', samples: '5' },
      { machine_id: 'spike', value: 0.2, severity: 'ok', summary: 'load5 12.0 on 4 cores (3.0 per core); lowest per-core load5 in the last 10 min: 0.2', samples: '5' },
    ]);
  });

  test('load with less than 10 minutes of samples is graded on the kernel\'s damped averages, not the spike', async (t) => {
    const st = new Store();
    // One sample each (a machine's first collection): load5 says 3.0 per core on all three.
    st.sys('burst', ago(1), sysSample({ load5: 12, load15: 2 }));       // a burst: load15 still low
    st.sys('steady', ago(1), sysSample({ load5: 12, load15: 8 }));      // high for a while: load15 agrees
    st.sys('two', ago(5), sysSample({ load5: 12, load15: 14 }));        // two samples 4 minutes apart: still too short
    st.sys('two', ago(1), sysSample({ load5: 12, load15: 14 }));
    const s = await st.open(t, { machines: ['burst', 'steady', 'two'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary FROM health_factors
      WHERE factor_id = 'load' ORDER BY machine_id`), [
      { machine_id: 'burst', value: 0.5, severity: 'ok', summary: 'load5 12.0 on 4 cores (3.0 per core); less than 10 min of samples: graded on load15 2.0' },
      { machine_id: 'steady', value: 2, severity: 'warn', summary: 'load5 12.0 on 4 cores (3.0 per core); less than 10 min of samples: graded on load15 8.0' },
      { machine_id: 'two', value: 3, severity: 'crit', summary: 'load5 12.0 on 4 cores (3.0 per core); less than 10 min of samples: graded on load15 14.0' },
    ]);
    assert.deepEqual(await rows(s, `SELECT title FROM triage_items WHERE factor_id = 'load' ORDER BY rank`), [
      { title: 'two: sustained load of 3.0 per core' }, { title: 'steady: sustained load of 2.0 per core' },
    ]);
  });

  test('oom: counter increases within the window count; a reboot resets the counter without bogus counts', async (t) => {
    const st = new Store();
    // Increase before the window (2 -> 3) does not count; 3 -> 5 -> 6 inside it does.
    for (const [m, kills] of [[420, 2], [400, 3], [300, 3], [180, 5], [60, 6], [1, 6]] as const) {
      st.sys('oomy', ago(m), sysSample({ oom_kills: kills }));
    }
    // 10 -> 12 before a reboot at 3 h ago, then the counter restarts: 0 -> 1. Three kills, not 12 or -11.
    const bootA = '2026-03-01T00:00:00.000Z';
    const bootB = ago(180);
    for (const [m, kills, boot] of [[300, 10, bootA], [240, 12, bootA], [170, 0, bootB], [60, 1, bootB], [1, 1, bootB]] as const) {
      st.sys('rebooted', ago(m), sysSample({ oom_kills: kills, boot_time: boot }));
    }
    st.sysSeries('calm', every(60, 300, 0), () => sysSample({ oom_kills: 7 }));
    st.sys('unknown', ago(1), sysSample({ oom_kills: null }));
    const s = await st.open(t, { machines: ['oomy', 'rebooted', 'calm', 'unknown'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary FROM health_factors
      WHERE factor_id = 'oom_kills' ORDER BY machine_id`), [
      { machine_id: 'calm', value: 0, severity: 'ok', summary: '0 OOM kills in the last 6 h' },
      { machine_id: 'oomy', value: 3, severity: 'warn', summary: '3 OOM kills in the last 6 h' },
      { machine_id: 'rebooted', value: 3, severity: 'warn', summary: '3 OOM kills in the last 6 h' },
      // 'unknown' has no counter: no factor, not an invented 0
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, title FROM triage_items WHERE factor_id = 'oom_kills' ORDER BY machine_id`), [
      { machine_id: 'oomy', title: 'oomy: 3 OOM kills in 6 h' },
      { machine_id: 'rebooted', title: 'rebooted: 3 OOM kills in 6 h' },
    ]);
  });

  test('runaway: hot in every sample of the last 2 h and still hot now; not once it cooled down', async (t) => {
    const st = new Store();
    const hot = proc({ pid: 4242, comm: 'python3', args: 'python3 train.py --epochs 500', cpu_pct: 99.5 });
    const warming = proc({ pid: 777, comm: 'cc1plus', args: 'cc1plus big.cpp', cpu_pct: 95, started_at: ago(41) });
    const cooled = proc({ pid: 555, comm: 'node', args: 'node build.js', cpu_pct: 98 });
    const gone = proc({ pid: 888, comm: 'rg', args: 'rg -uuu foo /', cpu_pct: 100 });
    // Every 2 minutes for 2 h 10 min; the window holds the 61 samples from 2 h ago up to now.
    st.sysSeries('r', every(2, 130, 0), (m) => sysSample({
      top_cpu: [
        hot,
        ...(m <= 40 ? [warming] : []),
        m === 0 ? { ...cooled, cpu_pct: 3 } : cooled,
        ...(m > 0 ? [gone] : []),
      ],
    }));
    const s = await st.open(t, { machines: ['r'], intervals: { sys: 120 } });
    assert.deepEqual(await rows(s, `SELECT subject, value, severity, summary, evidence->>'hot_samples' AS hot_samples FROM health_factors
      WHERE factor_id = 'runaway_process' ORDER BY value DESC`), [
      { subject: '4242', value: 120, severity: 'crit', hot_samples: '61',
        summary: 'pid 4242 (python3) at 100% CPU in 61 samples over the last 2 h (~120 min): python3 train.py --epochs 500' },
      { subject: '777', value: 42, severity: 'warn', hot_samples: '21',
        summary: 'pid 777 (cc1plus) at 95% CPU in 21 samples over the last 2 h (~42 min): cc1plus big.cpp' },
    ]);
    assert.deepEqual(await rows(s, `SELECT subject, title, next, fix FROM triage_items WHERE factor_id = 'runaway_process' ORDER BY rank`), [
      { subject: '4242', title: 'r: runaway process pid 4242 hot for ~120 min', fix: 'ps -o pid,etime,pcpu,rss,args -p 4242', next: [
        `vc query "SELECT pid, comm, cpu_pct, rss_bytes, age_s, args FROM latest_processes WHERE machine_id = 'r' AND pid = 4242"`,
        'vc report machines --md'] },
      { subject: '777', title: 'r: runaway process pid 777 hot for ~42 min', fix: 'ps -o pid,etime,pcpu,rss,args -p 777', next: [
        `vc query "SELECT pid, comm, cpu_pct, rss_bytes, age_s, args FROM latest_processes WHERE machine_id = 'r' AND pid = 777"`,
        'vc report machines --md'] },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// repos

describe('repos', { concurrency: true }, () => {
  test('repo_status: one state per repository, by precedence', async (t) => {
    const st = new Store();
    st.repos('m', ago(5), [
      repo('clean'),
      repo('edited', { dirty_files: 2, staged_files: 1 }),
      repo('untracked', { untracked_files: 1 }),
      repo('merging', { conflicted_files: 1, dirty_files: 1, ahead: 1, behind: 1 }),
      repo('ahead', { ahead: 2 }),
      repo('behind', { behind: 3 }),
      repo('diverged', { ahead: 1, behind: 4 }),
      repo('dirty-ahead', { dirty_files: 1, ahead: 5 }),
      repo('detached', { branch: null, detached: true, upstream: null, ahead: null, behind: null }),
      repo('broken', { error: 'git status timed out after 10s', dirty_files: null, untracked_files: null, staged_files: null, ahead: null, behind: null }),
      repo('no-upstream', { upstream: null, ahead: null, behind: null }),
    ]);
    const s = await st.open(t, { machines: ['m'], intervals: { repos: 600 } });
    assert.deepEqual(await rows(s, `SELECT name, state, dirty, last_commit_age_s FROM repo_status ORDER BY name`), [
      { name: 'ahead', state: 'ahead', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'behind', state: 'behind', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'broken', state: 'error', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'clean', state: 'clean', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'detached', state: 'detached', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'dirty-ahead', state: 'dirty', dirty: true, last_commit_age_s: 3 * 3600 },
      { name: 'diverged', state: 'diverged', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'edited', state: 'dirty', dirty: true, last_commit_age_s: 3 * 3600 },
      { name: 'merging', state: 'conflicted', dirty: true, last_commit_age_s: 3 * 3600 },
      { name: 'no-upstream', state: 'clean', dirty: false, last_commit_age_s: 3 * 3600 },
      { name: 'untracked', state: 'dirty', dirty: true, last_commit_age_s: 3 * 3600 },
    ]);
    assert.deepEqual(await rows(s, `SELECT value, severity, summary FROM health_factors WHERE factor_id = 'dirty_repos'`), [
      { value: 4, severity: 'ok', summary: '4 of 11 repositories have uncommitted or untracked changes' },
    ]);
  });

  test('dirty_repos against its thresholds', async (t) => {
    const st = new Store();
    const fleet = (dirty: number, clean: number) => [
      ...Array.from({ length: dirty }, (_, i) => repo(`d${String(i).padStart(2, '0')}`, { dirty_files: i + 1 })),
      ...Array.from({ length: clean }, (_, i) => repo(`c${String(i).padStart(2, '0')}`)),
    ];
    st.repos('four', ago(5), fleet(4, 3));
    st.repos('five', ago(5), fleet(5, 0));
    st.repos('fifteen', ago(5), fleet(15, 2));
    st.repos('none', ago(5), []);
    const s = await st.open(t, { machines: ['four', 'five', 'fifteen', 'none'], intervals: { repos: 600 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, value, severity, summary FROM health_factors
      WHERE factor_id = 'dirty_repos' ORDER BY machine_id`), [
      { machine_id: 'fifteen', value: 15, severity: 'crit', summary: '15 of 17 repositories have uncommitted or untracked changes' },
      { machine_id: 'five', value: 5, severity: 'warn', summary: '5 of 5 repositories have uncommitted or untracked changes' },
      { machine_id: 'four', value: 4, severity: 'ok', summary: '4 of 7 repositories have uncommitted or untracked changes' },
      { machine_id: 'none', value: 0, severity: 'ok', summary: '0 of 0 repositories have uncommitted or untracked changes' },
    ]);
    const five = await one(s, `SELECT evidence FROM health_factors WHERE machine_id = 'five' AND factor_id = 'dirty_repos'`);
    assert.deepEqual((five.evidence as { dirtiest: Array<{ name: string }> }).dirtiest.map((d) => d.name), ['d04', 'd03', 'd02', 'd01', 'd00']);
    assert.deepEqual(await rows(s, `SELECT machine_id, title, next FROM triage_items WHERE factor_id = 'dirty_repos' ORDER BY rank`), [
      { machine_id: 'fifteen', title: 'fifteen: 15 repositories with uncommitted changes', next: [
        `vc query "SELECT name, branch, dirty_files, untracked_files, ahead, behind, path FROM repo_status WHERE machine_id = 'fifteen' AND dirty ORDER BY dirty_files DESC"`,
        'vc report machines --md'] },
      { machine_id: 'five', title: 'five: 5 repositories with uncommitted changes', next: [
        `vc query "SELECT name, branch, dirty_files, untracked_files, ahead, behind, path FROM repo_status WHERE machine_id = 'five' AND dirty ORDER BY dirty_files DESC"`,
        'vc report machines --md'] },
    ]);
  });
  test('repo_cold: a repository with commits on 3 of the last 7 days, quiet for 48 h, with work left; reset, one day, clean and out-of-window days are not', async (t) => {
    const st = new Store();
    /** A repos run at the end of each day, its newest commit from that evening. */
    const days = (machine: string, dates: string[], over: Partial<RepoData> = {}) => {
      for (const d of dates) st.repos(machine, `${d}T23:50:00.000Z`, [repo('api', { last_commit_at: `${d}T20:00:00.000Z`, ...over })]);
    };
    const now = (machine: string, lastCommit: string, over: Partial<RepoData> = {}) =>
      st.repos(machine, ago(3), [repo('api', { last_commit_at: lastCommit, ...over })]);
    // cold: commits on 5, 6 and 7 March, none since (64 h); 2 files changed, 1 commit not pushed.
    days('cold', ['2026-03-05', '2026-03-06', '2026-03-07'], { dirty_files: 1 });
    now('cold', '2026-03-07T20:00:00.000Z', { dirty_files: 2, ahead: 1 });
    // warm: busy until last evening (16 h): hot, not cold yet.
    days('warm', ['2026-03-07', '2026-03-08', '2026-03-09']);
    now('warm', '2026-03-09T20:00:00.000Z', { untracked_files: 3 });
    // reset: busy until last evening, then reset to an older commit: quiet since the newest commit seen.
    days('reset', ['2026-03-07', '2026-03-08', '2026-03-09']);
    now('reset', '2026-03-05T20:00:00.000Z', { dirty_files: 1 });
    // clean: hot and cold, but nothing left behind.
    days('clean', ['2026-03-05', '2026-03-06', '2026-03-07']);
    now('clean', '2026-03-07T20:00:00.000Z');
    // once: one sample, one day of commits.
    now('once', '2026-03-07T20:00:00.000Z', { dirty_files: 1 });
    // edge: 2 March is before the days read, 3 March's commit before the 7 days: 2 days in the window.
    days('edge', ['2026-03-02', '2026-03-05', '2026-03-06'], { dirty_files: 1 });
    st.repos('edge', '2026-03-03T23:50:00.000Z', [repo('api', { last_commit_at: '2026-03-03T08:00:00.000Z', dirty_files: 1 })]);
    now('edge', '2026-03-06T20:00:00.000Z', { dirty_files: 1 });
    const machines = ['cold', 'warm', 'reset', 'clean', 'once', 'edge', 'none'];
    const s = await st.open(t, { machines, intervals: { repos: 600 } });
    assert.deepEqual(await rows(s, `SELECT machine_id, commit_days, commit_dates, hot, newest_commit_at, hours_quiet, work_left FROM repo_commit_days ORDER BY machine_id`), [
      { machine_id: 'clean', commit_days: 3, commit_dates: ['2026-03-05', '2026-03-06', '2026-03-07'].map((d) => `${d}T00:00:00.000Z`), hot: true,
        newest_commit_at: '2026-03-07T20:00:00.000Z', hours_quiet: 64, work_left: false },
      { machine_id: 'cold', commit_days: 3, commit_dates: ['2026-03-05', '2026-03-06', '2026-03-07'].map((d) => `${d}T00:00:00.000Z`), hot: true,
        newest_commit_at: '2026-03-07T20:00:00.000Z', hours_quiet: 64, work_left: true },
      { machine_id: 'edge', commit_days: 2, commit_dates: ['2026-03-05', '2026-03-06'].map((d) => `${d}T00:00:00.000Z`), hot: false,
        newest_commit_at: '2026-03-06T20:00:00.000Z', hours_quiet: 88, work_left: true },
      { machine_id: 'once', commit_days: 1, commit_dates: ['2026-03-07T00:00:00.000Z'], hot: false,
        newest_commit_at: '2026-03-07T20:00:00.000Z', hours_quiet: 64, work_left: true },
      { machine_id: 'reset', commit_days: 4, commit_dates: ['2026-03-05', '2026-03-07', '2026-03-08', '2026-03-09'].map((d) => `${d}T00:00:00.000Z`), hot: true,
        newest_commit_at: '2026-03-09T20:00:00.000Z', hours_quiet: 16, work_left: true },
      { machine_id: 'warm', commit_days: 3, commit_dates: ['2026-03-07', '2026-03-08', '2026-03-09'].map((d) => `${d}T00:00:00.000Z`), hot: true,
        newest_commit_at: '2026-03-09T20:00:00.000Z', hours_quiet: 16, work_left: true },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, subject, value, severity, summary, fix FROM health_factors WHERE factor_id = 'repo_cold' ORDER BY machine_id`), [
      { machine_id: 'cold', subject: '/home/dev/src/api', value: 64, severity: 'warn',
        summary: 'api (main) had commits on 3 of the last 7 days, none for 2d16h; left: 2 changed, 1 commit not pushed',
        fix: "git -C '/home/dev/src/api' status --short --branch" },
      { machine_id: 'reset', subject: '/home/dev/src/api', value: 16, severity: 'ok',
        summary: 'api (main) had commits on 4 of the last 7 days, none for 16h; left: 1 changed', fix: "git -C '/home/dev/src/api' status --short --branch" },
      { machine_id: 'warm', subject: '/home/dev/src/api', value: 16, severity: 'ok',
        summary: 'api (main) had commits on 3 of the last 7 days, none for 16h; left: 3 untracked', fix: "git -C '/home/dev/src/api' status --short --branch" },
    ]);
    const items = await rows(s, `SELECT * FROM triage_items WHERE factor_id = 'repo_cold'`);
    assert.deepEqual(items.map((i) => [i.machine_id, i.title, i.next]), [['cold', 'cold: api went cold 2d16h ago with work left', [
      `vc query "SELECT name, branch, commit_days, newest_commit_at, hours_quiet, dirty_files, untracked_files, ahead, path FROM repo_commit_days WHERE machine_id = 'cold' AND hot AND work_left ORDER BY newest_commit_at"`,
      'vc report repos --md', 'vc report machines --md']]]);
    assert.equal(await checkNextCommands(s, items), 1);
    assert.deepEqual(await rows(s, `SELECT machine_id, rule_id, subject FROM alert_candidates WHERE rule_id = 'repo_went_cold'`),
      [{ machine_id: 'cold', rule_id: 'repo_went_cold', subject: '/home/dev/src/api' }]);
    // As of the end of 7 March: cold was busy 4 h before; edge's 2 and 3 March are in its 7 days
    // then; warm and reset had one day of commits yet.
    const then = await st.open(t, { now: new Date('2026-03-07T23:55:00.000Z'), machines, intervals: { repos: 600 } });
    assert.deepEqual(await rows(then, `SELECT machine_id, commit_days FROM repo_commit_days ORDER BY machine_id`), [
      { machine_id: 'clean', commit_days: 3 }, { machine_id: 'cold', commit_days: 3 }, { machine_id: 'edge', commit_days: 4 },
      { machine_id: 'reset', commit_days: 1 }, { machine_id: 'warm', commit_days: 1 },
    ]);
    assert.deepEqual(await rows(then, `SELECT machine_id, value, severity FROM health_factors WHERE factor_id = 'repo_cold' ORDER BY machine_id`), [
      { machine_id: 'cold', value: 3.9, severity: 'ok' }, { machine_id: 'edge', value: 27.9, severity: 'ok' },
    ]);
  });

  test('repo_cold with no repository data: no rows', async (t) => {
    const st = new Store();
    st.sys('m', ago(1));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await rows(s, 'SELECT * FROM repo_commit_days'), []);
    assert.deepEqual(await rows(s, `SELECT * FROM health_factors WHERE factor_id = 'repo_cold'`), []);
  });
});

// ---------------------------------------------------------------------------------------------
// agents

describe('agents', { concurrency: true }, () => {
  test('process status from CPU time across snapshots; panes whose agent exited; session counts', async (t) => {
    const st = new Store();
    const started = '2026-03-10T08:00:00.000Z';
    // A snapshot 7 h ago (before the window, still in the newest day file): pane %5 had an agent then.
    st.agents('m', ago(420), [tmuxSession('work'), tmuxSession('misc'), pane('misc', '%5', 'gemini')]);
    for (const m of every(2, 40, 0)) {
      const k = (40 - m) / 2; // 0 .. 20
      const items: AgentsItem[] = [
        tmuxSession('work', { session_windows: 3 }), tmuxSession('misc'),
        pane('work', '%1', 'claude'),
        // %2 ran codex until 20 minutes ago, then dropped back to the shell
        pane('work', '%2', m >= 20 ? 'codex' : null),
        pane('work', '%3', null),
        pane('work', '%6', 'claude'),
        pane('work', '%7', 'codex'),
        pane('misc', '%4', null, { pane_dead: m <= 10 }),
        pane('misc', '%5', null),
        // active: uses a second of CPU between every two snapshots
        agentProc(5001, 100 + k, { session: 'work', window_index: 0, pane_index: 1, pane_id: '%1' }),
        // idle: used CPU once, 38 minutes ago, then nothing
        agentProc(5002, k === 0 ? 50 : 51, { session: 'work', window_index: 0, pane_index: 6, pane_id: '%6' }),
        // idle since first seen 40 minutes ago
        agentProc(5003, 20, { agent: 'codex', comm: 'node', session: 'work', window_index: 0, pane_index: 7, pane_id: '%7' }),
        // stopped (T) and zombie (Z), outside tmux
        agentProc(5004, 7, { state: m === 0 ? 'T' : 'S' }),
        agentProc(5005, 9, { state: m === 0 ? 'Z' : 'S' }),
        // quiet for the last 10 minutes only: still active
        agentProc(5007, m >= 10 ? 300 + k : 300 + 15),
        // the old process 5009 exited 4 minutes ago; its pid is reused by a new agent in the newest snapshot
        ...(m >= 4 ? [agentProc(5009, 1000, { started_at: started })] : []),
        ...(m === 0 ? [agentProc(5009, 0.5, { started_at: ago(1) }), agentProc(5006, 2, { started_at: ago(3) })] : []),
        // exited 10 minutes ago
        ...(m >= 10 ? [agentProc(5008, 40 + k)] : []),
      ];
      st.agents('m', ago(m), items);
    }
    const s = await st.open(t, { machines: ['m'], intervals: { agents: 120 } });

    assert.deepEqual(await rows(s, `SELECT pid, status, idle_s, last_active_at, recent_cpu_pct, session, pane_id FROM agent_processes ORDER BY pid`), [
      { pid: 5001, status: 'active', idle_s: 0, last_active_at: ago(0), recent_cpu_pct: 0.8, session: 'work', pane_id: '%1' },
      { pid: 5002, status: 'idle', idle_s: 38 * 60, last_active_at: ago(38), recent_cpu_pct: 0, session: 'work', pane_id: '%6' },
      { pid: 5003, status: 'idle', idle_s: 40 * 60, last_active_at: null, recent_cpu_pct: 0, session: 'work', pane_id: '%7' },
      { pid: 5004, status: 'stopped', idle_s: 40 * 60, last_active_at: null, recent_cpu_pct: 0, session: null, pane_id: null },
      { pid: 5005, status: 'zombie', idle_s: 40 * 60, last_active_at: null, recent_cpu_pct: 0, session: null, pane_id: null },
      { pid: 5006, status: 'new', idle_s: null, last_active_at: null, recent_cpu_pct: null, session: null, pane_id: null },
      { pid: 5007, status: 'active', idle_s: 10 * 60, last_active_at: ago(10), recent_cpu_pct: 0, session: null, pane_id: null },
      { pid: 5009, status: 'new', idle_s: null, last_active_at: null, recent_cpu_pct: null, session: null, pane_id: null },
    ]);

    assert.deepEqual(await rows(s, `SELECT session, pane_id, agent, last_agent, had_agent_at, pane_dead, agent_dead FROM agent_panes ORDER BY pane_id`), [
      { session: 'work', pane_id: '%1', agent: 'claude', last_agent: 'claude', had_agent_at: ago(0), pane_dead: false, agent_dead: false },
      { session: 'work', pane_id: '%2', agent: null, last_agent: 'codex', had_agent_at: ago(20), pane_dead: false, agent_dead: true },
      { session: 'work', pane_id: '%3', agent: null, last_agent: null, had_agent_at: null, pane_dead: false, agent_dead: false },
      { session: 'misc', pane_id: '%4', agent: null, last_agent: null, had_agent_at: null, pane_dead: true, agent_dead: true },
      // its agent left 7 h ago, before the window: old news, not a dead agent
      { session: 'misc', pane_id: '%5', agent: null, last_agent: null, had_agent_at: null, pane_dead: false, agent_dead: false },
      { session: 'work', pane_id: '%6', agent: 'claude', last_agent: 'claude', had_agent_at: ago(0), pane_dead: false, agent_dead: false },
      { session: 'work', pane_id: '%7', agent: 'codex', last_agent: 'codex', had_agent_at: ago(0), pane_dead: false, agent_dead: false },
    ]);

    assert.deepEqual(await rows(s, `SELECT session, session_windows, panes, agents, idle_agents, dead_panes FROM agent_sessions ORDER BY session`), [
      { session: 'misc', session_windows: 1, panes: 2, agents: 0, idle_agents: 0, dead_panes: 1 },
      { session: 'work', session_windows: 3, panes: 5, agents: 3, idle_agents: 2, dead_panes: 1 },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, collected_at, tmux_sessions, agents, active, idle, stopped, dead_panes FROM agent_machines`), [
      { machine_id: 'm', collected_at: ago(0), tmux_sessions: 2, agents: 8, active: 2, idle: 2, stopped: 2, dead_panes: 2 },
    ]);
    assert.deepEqual(await rows(s, `SELECT factor_id, subject, value, severity FROM health_factors
      WHERE factor_id LIKE 'agent%' ORDER BY factor_id, subject`), [
      { factor_id: 'agent_dead', subject: null, value: 2, severity: 'warn' },
      { factor_id: 'agent_idle', subject: 'claude pid 5001', value: 0, severity: 'ok' },
      { factor_id: 'agent_idle', subject: 'claude pid 5002', value: 38, severity: 'warn' },
      { factor_id: 'agent_idle', subject: 'claude pid 5004', value: 40, severity: 'warn' },
      { factor_id: 'agent_idle', subject: 'claude pid 5005', value: 40, severity: 'warn' },
      { factor_id: 'agent_idle', subject: 'claude pid 5007', value: 10, severity: 'ok' },
      { factor_id: 'agent_idle', subject: 'codex pid 5003', value: 40, severity: 'warn' },
      { factor_id: 'agent_stopped', subject: null, value: 2, severity: 'warn' },
    ]);
    assert.equal((await factor(s, 'm', 'agent_idle', 'claude pid 5002'))?.summary,
      'claude (pid 5002) in /home/dev/src/api has used no CPU for 38m (tmux work:0.6)');
  });

  test('one snapshot: idle time is unknown (null), every agent is new', async (t) => {
    const st = new Store();
    st.agents('m', ago(1), [
      tmuxSession('work'), pane('work', '%1', 'claude'),
      agentProc(6001, 12.5, { session: 'work', window_index: 0, pane_index: 1, pane_id: '%1' }),
      agentProc(6002, 0, { agent: 'codex' }),
    ]);
    const s = await st.open(t, { machines: ['m'], intervals: { agents: 120 } });
    assert.deepEqual(await rows(s, `SELECT pid, agent, status, idle_s, recent_cpu_pct, age_s FROM agent_processes ORDER BY pid`), [
      { pid: 6001, agent: 'claude', status: 'new', idle_s: null, recent_cpu_pct: null, age_s: 4 * 3600 - 60 },
      { pid: 6002, agent: 'codex', status: 'new', idle_s: null, recent_cpu_pct: null, age_s: 4 * 3600 - 60 },
    ]);
    assert.deepEqual(await rows(s, `SELECT factor_id FROM health_factors WHERE factor_id = 'agent_idle'`), []);
    assert.deepEqual(await rows(s, `SELECT agents, active, idle, stopped FROM agent_machines`), [{ agents: 2, active: 0, idle: 0, stopped: 0 }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Roll-up and triage

describe('health roll-up', { concurrency: true }, () => {
  test('machine score is its worst factor\'s; fleet counts machines by severity', async (t) => {
    const st = new Store();
    st.sys('ok-1', ago(1));
    st.sys('warn-1', ago(1), sysSample({ filesystems: [filesystemAt('/', 30), filesystemAt('/data', 85)] }));
    st.sys('crit-1', ago(1), sysSample({
      filesystems: [filesystemAt('/', 30), filesystemAt('/data', 95)],
      swap_total_bytes: 10 * GiB, swap_free_bytes: 4 * GiB,
      mem_total_bytes: 100 * GiB, mem_available_bytes: 2 * GiB,
    }));
    const s = await st.open(t, { machines: ['ok-1', 'warn-1', 'crit-1', 'ghost'], intervals: { sys: 120 } });

    assert.deepEqual(await rows(s, `SELECT machine_id, score, severity, worst_factor, crit_factors, warn_factors FROM machine_health ORDER BY machine_id`), [
      // memory at 2% is further past its thresholds than /data at 95%: it is the worst of the two crits
      { machine_id: 'crit-1', score: 0.2, severity: 'crit', worst_factor: 'memory', crit_factors: 2, warn_factors: 1 },
      { machine_id: 'ghost', score: 0.2, severity: 'crit', worst_factor: 'freshness', crit_factors: 1, warn_factors: 0 },
      { machine_id: 'ok-1', score: 1, severity: 'ok', worst_factor: null, crit_factors: 0, warn_factors: 0 },
      { machine_id: 'warn-1', score: 0.6, severity: 'warn', worst_factor: 'disk_used', crit_factors: 0, warn_factors: 1 },
    ]);
    // worst_summary is the worst factor's own summary
    assert.deepEqual(await rows(s, `SELECT h.machine_id FROM machine_health h JOIN health_factors f
      ON f.machine_id = h.machine_id AND f.factor_id = h.worst_factor AND f.summary = h.worst_summary ORDER BY 1`),
    [{ machine_id: 'crit-1' }, { machine_id: 'ghost' }, { machine_id: 'warn-1' }]);
    // every factor of the healthy machine is ok, and there is at least one of each sys kind
    assert.deepEqual(await rows(s, `SELECT DISTINCT factor_id, severity FROM health_factors WHERE machine_id = 'ok-1' ORDER BY ALL`), [
      { factor_id: 'collector_failures', severity: 'ok' }, { factor_id: 'disk_inodes', severity: 'ok' },
      { factor_id: 'disk_used', severity: 'ok' }, { factor_id: 'freshness', severity: 'ok' },
      { factor_id: 'inotify_instances', severity: 'ok' }, { factor_id: 'inotify_watches', severity: 'ok' },
      { factor_id: 'load', severity: 'ok' }, { factor_id: 'memory', severity: 'ok' },
      { factor_id: 'oom_kills', severity: 'ok' }, { factor_id: 'swap', severity: 'ok' },
    ]);
    assert.deepEqual(await rows(s, 'SELECT * FROM fleet_health'), [
      { score: 0.2, mean_score: 0.5, severity: 'crit', machines: 4, machines_crit: 2, machines_warn: 1, machines_ok: 1 },
    ]);
    assert.deepEqual(await rows(s, `SELECT machine_id, severity, worst_mount, worst_used_pct, mem_available_pct FROM machine_overview ORDER BY machine_id`), [
      { machine_id: 'crit-1', severity: 'crit', worst_mount: '/data', worst_used_pct: 95, mem_available_pct: 2 },
      { machine_id: 'ghost', severity: 'crit', worst_mount: null, worst_used_pct: null, mem_available_pct: null },
      { machine_id: 'ok-1', severity: 'ok', worst_mount: '/', worst_used_pct: 42.1, mem_available_pct: 50 },
      { machine_id: 'warn-1', severity: 'warn', worst_mount: '/data', worst_used_pct: 85, mem_available_pct: 50 },
    ]);
  });
});

/** The SQL of a `vc query "..."` command, or null for other commands. */
const queryOf = (cmd: string) => /^vc query "([^"]*)"$/.exec(cmd)?.[1] ?? null;

/** Checks every `next` command of every triage item: a vc command; a vc query that names its machine only in quotes and runs. */
async function checkNextCommands(s: Session, items: Row[]): Promise<number> {
  let queries = 0;
  for (const item of items) {
    const id = String(item.machine_id);
    const next = item.next as string[];
    assert.ok(Array.isArray(next) && next.length > 0, `item ${item.rank} has no next steps`);
    for (const cmd of next) {
      assert.match(cmd, /^vc /, `not a vc command: ${cmd}`);
      const sql = queryOf(cmd);
      if (cmd.startsWith('vc query')) {
        assert.ok(sql !== null, `malformed vc query command: ${cmd}`);
        assert.ok(sql.includes(`machine_id = '${id}'`), `${cmd} does not select machine ${id}`);
        const unquoted = sql.replace(/'[^']*'/g, "''").split(/[^A-Za-z0-9._-]+/);
        assert.ok(!unquoted.includes(id), `${cmd} has machine ${id} outside single quotes`);
        await s.query(sql); // runs as written
        queries++;
      } else {
        assert.ok(!/["'`$;|&<>()\\]/.test(cmd), `shell metacharacters in ${cmd}`);
      }
    }
  }
  return queries;
}

describe('triage_items', { concurrency: true }, () => {
  test('crit before warn; within a severity, higher impact first; next steps are vc commands', async (t) => {
    const st = new Store();
    st.sys('a', ago(1), sysSample({ filesystems: [filesystemAt('/', 30), filesystemAt('/data', 89)] }));
    st.sys('b', ago(1), sysSample({ swap_total_bytes: 10 * GiB, swap_free_bytes: 7 * GiB }));
    st.sys('d', ago(1), sysSample({ filesystems: [filesystemAt('/', 30), filesystemAt('/data', 97)] }));
    st.sysSeries('e', every(2, 20, 1), () => sysSample({ load5: 8 }));
    const s = await st.open(t, { machines: ['a', 'b', 'c', 'd', 'e'], intervals: { sys: 120 } });
    // (triage_items has no impact column: it is joined back from health_factors for the ordering check below)
    const items = await rows(s, `SELECT i.rank, i.severity, i.machine_id, i.factor_id, i.subject, f.impact FROM triage_items i
      JOIN health_factors f ON f.machine_id = i.machine_id AND f.factor_id = i.factor_id AND f.subject IS NOT DISTINCT FROM i.subject
      ORDER BY i.rank`);
    assert.deepEqual(items.map(({ rank, severity, machine_id, factor_id, subject }) => ({ rank, severity, machine_id, factor_id, subject })), [
      { rank: 1, severity: 'crit', machine_id: 'd', factor_id: 'disk_used', subject: '/data' },
      // never collected: crit, though its impact is below the warn disk item's
      { rank: 2, severity: 'crit', machine_id: 'c', factor_id: 'freshness', subject: null },
      { rank: 3, severity: 'warn', machine_id: 'a', factor_id: 'disk_used', subject: '/data' },
      { rank: 4, severity: 'warn', machine_id: 'e', factor_id: 'load', subject: null },
      { rank: 5, severity: 'warn', machine_id: 'b', factor_id: 'swap', subject: null },
    ]);
    assert.ok((items[1]!.impact as number) < (items[2]!.impact as number), 'the crit item ranks first despite a lower impact');
    for (let i = 1; i < items.length; i++) {
      if (items[i]!.severity === items[i - 1]!.severity) assert.ok((items[i]!.impact as number) <= (items[i - 1]!.impact as number));
    }
    assert.equal(await checkNextCommands(s, await rows(s, 'SELECT * FROM triage_items')), 5);
  });

  test('on the synthetic fleet plus an odd machine id, every next step is a runnable vc command', async (t) => {
    const st = new Store();
    const summary = writeFleet(st.dir, { machines: 10, days: 1, seed: 3, end: NOW });
    st.sys('db.prod-01', ago(1), sysSample({ filesystems: [filesystemAt('/', 97)], mem_total_bytes: 10 * GiB, mem_available_bytes: GiB / 2 }));
    st.repos('db.prod-01', ago(2), Array.from({ length: 6 }, (_, i) => repo(`r${i}`, { dirty_files: 1 })));
    st.agents('db.prod-01', ago(1), [agentProc(7001, 5, { state: 'T' })]);
    const s = await st.open(t, { machines: [...summary.machines.map((m): [string, boolean] => [m, false]), 'db.prod-01', 'never-seen'] });
    const items = await rows(s, 'SELECT * FROM triage_items ORDER BY rank');
    assert.deepEqual(items.map((i) => i.rank), items.map((_, i) => i + 1));
    const factors = new Set(items.map((i) => i.factor_id));
    for (const f of ['disk_used', 'memory', 'freshness', 'collector_failures', 'dirty_repos', 'agent_dead', 'agent_idle', 'agent_stopped', 'runaway_process', 'inotify_watches']) {
      assert.ok(factors.has(f), `the fleet should raise ${f}; got ${[...factors].sort().join(', ')}`);
    }
    const queries = await checkNextCommands(s, items);
    // every item has a vc query to look closer, but those with no view to point at (inotify, OOM kills)
    const pointable = items.filter((i) => !['inotify_watches', 'inotify_instances', 'oom_kills'].includes(String(i.factor_id)));
    assert.ok(pointable.every((i) => (i.next as string[]).some((c) => c.startsWith('vc query '))));
    assert.ok(queries >= pointable.length, `${queries} vc query commands for ${pointable.length} items`);
    // only configured, collectable machines get `vc collect`
    const collects = items.flatMap((i) => (i.next as string[]).filter((c) => c.startsWith('vc collect')));
    assert.deepEqual(collects, ['vc collect --machine never-seen']);
    // The shared views and the factors computed once as temp tables (as reports do) answer the same
    // as the views, and so does computing them again (vc watch).
    const byView = await rows(s, 'SELECT * FROM v1.health_factors ORDER BY ALL');
    for (let pass = 0; pass < 2; pass++) {
      await materializeHealthFactors(s);
      assert.deepEqual(await rows(s, 'SELECT * FROM health_factors ORDER BY ALL'), byView);
      assert.deepEqual(await rows(s, 'SELECT * FROM triage_items ORDER BY rank'), items);
    }
  });
});

test('views name the shared views unqualified, so their per-session tables stand in for them', () => {
  const qualified = new RegExp(`\\bv1\\.(${SHARED_VIEWS.join('|')})\\b`);
  for (const dir of ['views/v1', 'reports']) {
    for (const f of fs.readdirSync(path.join(repoRoot, dir)).filter((n) => n.endsWith('.sql'))) {
      fs.readFileSync(path.join(repoRoot, dir, f), 'utf8').split('\n').forEach((line, i) => {
        if (/^(CREATE|COMMENT ON) VIEW/.test(line)) return;
        assert.doesNotMatch(line, qualified, `${dir}/${f}:${i + 1}`);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// As of a past moment

describe('as-of', { concurrency: true }, () => {
  test('a session with now in the past sees nothing collected after it', async (t) => {
    const st = new Store();
    const asOf = new Date('2026-03-09T23:00:00.000Z');
    st.repos('m', '2026-03-09T22:00:00.000Z', [repo('api'), repo('web')]);
    st.sys('m', '2026-03-09T22:50:00.000Z', sysSample({ load5: 1 }));
    st.sys('m', '2026-03-09T22:58:00.000Z', sysSample({ load5: 2 }), { durationMs: 700 });
    // after the as-of time: later that day and the next day
    st.sys('m', '2026-03-09T23:30:00.000Z', sysSample({ load5: 3 }));
    st.run('m', 'repos', '2026-03-09T23:30:00.000Z', { rows: 0 });
    st.sys('m', '2026-03-10T00:30:00.000Z', sysSample({ load5: 4 }));
    st.run('m', 'agents', '2026-03-10T00:31:00.000Z', { status: 'error', error: 'tmux: server exited unexpectedly' });

    const past = await st.open(t, { now: asOf, machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await rows(past, 'SELECT collected_at, load5 FROM latest_sys'), [{ collected_at: '2026-03-09T22:58:00.000Z', load5: 2 }]);
    assert.deepEqual(await rows(past, 'SELECT collected_at FROM sys ORDER BY 1'), [
      { collected_at: '2026-03-09T22:50:00.000Z' }, { collected_at: '2026-03-09T22:58:00.000Z' },
    ]);
    assert.deepEqual(await one(past, 'SELECT count(*) AS n, max(ended_at) AS last FROM collector_runs'), { n: 3, last: '2026-03-09T22:58:00.700Z' });
    assert.deepEqual(await rows(past, 'SELECT name FROM latest_repos ORDER BY 1'), [{ name: 'api' }, { name: 'web' }]);
    // (age_s is epoch(b) - epoch(a) in doubles: 119.29999995..., hence round())
    assert.deepEqual(await rows(past, 'SELECT source, last_ok_at, round(age_s, 3) AS age_s FROM source_freshness ORDER BY source'), [
      { source: 'repos', last_ok_at: '2026-03-09T22:00:00.000Z', age_s: 3600 },
      { source: 'sys', last_ok_at: '2026-03-09T22:58:00.700Z', age_s: 119.3 },
    ]);

    const present = await st.open(t, { machines: ['m'], intervals: { sys: 120, repos: 600 } });
    assert.deepEqual(await rows(present, 'SELECT collected_at, load5 FROM latest_sys'), [{ collected_at: '2026-03-10T00:30:00.000Z', load5: 4 }]);
    assert.deepEqual(await one(present, 'SELECT count(*) AS n FROM sys'), { n: 4 });
    assert.deepEqual(await one(present, 'SELECT count(*) AS n FROM collector_runs'), { n: 7 });
  });
});

// ---------------------------------------------------------------------------------------------
// Damaged files

describe('robustness', { concurrency: true }, () => {
  const line = (at: string, load5: number) => JSON.stringify(envelopeOf('sys', 'm', at, `run-${at}`, sysSample({ load5 })));

  test('a partial last line (a killed writer) is ignored; every complete line is there; no warning', async (t) => {
    const st = new Store();
    st.sys('m', ago(5), sysSample({ load5: 1 }));
    st.sys('m', ago(3), sysSample({ load5: 2 }));
    st.sys('m', ago(1), sysSample({ load5: 3 }));
    await st.flush();
    const partial = line(ago(0), 4);
    st.writeRaw('sys', 'm', utcDate(ago(0)), partial.slice(0, Math.floor(partial.length / 2)));
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });
    assert.deepEqual(s.warnings, []);
    assert.deepEqual(await rows(s, 'SELECT collected_at, load5 FROM sys_recent ORDER BY 1'), [
      { collected_at: ago(5), load5: 1 }, { collected_at: ago(3), load5: 2 }, { collected_at: ago(1), load5: 3 },
    ]);
    assert.deepEqual(await rows(s, 'SELECT collected_at FROM sys ORDER BY 1'), [
      { collected_at: ago(5) }, { collected_at: ago(3) }, { collected_at: ago(1) },
    ]);
    assert.deepEqual(await rows(s, 'SELECT collected_at, load5 FROM latest_sys'), [{ collected_at: ago(1), load5: 3 }]);
  });

  test('a garbage line in the middle is skipped with a warning; the lines around it are all there', async (t) => {
    const st = new Store();
    st.writeRaw('sys', 'm', utcDate(ago(0)), [line(ago(5), 1), 'this is not json', line(ago(3), 2), line(ago(1), 3)].join('\n') + '\n');
    const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /malformed/);
    assert.deepEqual(await rows(s, 'SELECT collected_at, load5 FROM sys_recent ORDER BY 1'), [
      { collected_at: ago(5), load5: 1 }, { collected_at: ago(3), load5: 2 }, { collected_at: ago(1), load5: 3 },
    ]);
    assert.deepEqual(await one(s, 'SELECT count(*) AS n FROM sys'), { n: 3 });
    assert.deepEqual(await rows(s, 'SELECT collected_at FROM latest_sys'), [{ collected_at: ago(1) }]);
  });

  for (const [name, damaged] of [
    ['a line cut off mid-way (an old killed writer)', line(ago(4), 9).slice(0, 60)],
    ['a line whose collected_at is not a time', line(ago(4), 9).replace(ago(4), 'yesterday')],
  ] as const) {
    test(`${name} in the middle: skipped with a warning, later lines kept`, async (t) => {
      const st = new Store();
      st.writeRaw('sys', 'm', utcDate(ago(0)), [line(ago(5), 1), damaged, line(ago(3), 2), line(ago(1), 3)].join('\n') + '\n');
      const s = await st.open(t, { machines: ['m'], intervals: { sys: 120 } });
      assert.equal(s.warnings.length, 1, `warnings: ${JSON.stringify(s.warnings)}`);
      assert.deepEqual(await rows(s, 'SELECT collected_at, load5 FROM sys_recent ORDER BY 1'), [
        { collected_at: ago(5), load5: 1 }, { collected_at: ago(3), load5: 2 }, { collected_at: ago(1), load5: 3 },
      ]);
      assert.deepEqual(await rows(s, 'SELECT collected_at FROM latest_sys'), [{ collected_at: ago(1) }]);
    });
  }
});
