// agents: tmux sessions and panes, and the coding-agent processes running on a machine (which pane
// each lives in, its cwd, CPU, memory and age), read in one POSIX sh script so it works over ssh.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CollectorDef } from '../collector.ts';
import { sectionScript, sectionText, type Section, type SectionScript } from '../sections.ts';
import { parseProcStat, type ProcStat } from './procfs.ts';

const int = z.number().int();
const str = z.string().nullable();
const iso = z.iso.datetime().nullable();

/** Every item carries every field (null where it does not apply): the SQL reads their union. */
const fields = {
  session: str,
  session_id: str,
  session_created_at: iso,
  session_activity_at: iso,
  session_attached: z.boolean().nullable(),
  session_windows: int.nonnegative().nullable(),
  window_index: int.nonnegative().nullable(),
  window_name: str,
  pane_index: int.nonnegative().nullable(),
  pane_id: str,
  pane_pid: int.positive().nullable(),
  pane_command: str,
  pane_path: str,
  pane_dead: z.boolean().nullable(),
  pane_activity_at: iso,
  pid: int.positive().nullable(),
  ppid: int.nonnegative().nullable(),
  agent: str,
  comm: str,
  args: str,
  cwd: str,
  state: str,
  /** utime + stime in seconds, cumulative: idleness is its change between snapshots. */
  cpu_seconds: z.number().nonnegative().nullable(),
  rss_bytes: int.nonnegative().nullable(),
  started_at: iso,
  user: str,
};

export const agentsSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...fields, type: z.literal('session'), session: z.string(), session_id: z.string() }),
  // `agent` is the agent running under the pane, if any.
  z.strictObject({ ...fields, type: z.literal('pane'), session: z.string(), pane_id: z.string(), pid: z.null() }),
  // The pane fields (session..pane_pid) say where the agent lives; null outside tmux.
  z.strictObject({ ...fields, type: z.literal('process'), pid: int.positive(), agent: z.string() }),
]);

export type AgentsItem = z.infer<typeof agentsSchema>;
type Blank = { [K in keyof typeof fields]: null };

const BLANK: Blank = Object.fromEntries(Object.keys(fields).map((k) => [k, null])) as Blank;

const ARGS_MAX = 300;

/** tmux format variables, in the order of the tab-separated fields of a line. */
const SESSION_FORMAT = ['session_name', 'session_id', 'session_created', 'session_activity', 'session_attached', 'session_windows'];
// pane_activity is newer than some tmux versions (unknown variables expand to ""): window_activity backs it up.
const PANE_FORMAT = [
  'session_name', 'session_id', 'window_index', 'window_name', 'pane_index', 'pane_id', 'pane_pid',
  'pane_current_command', 'pane_current_path', 'pane_dead', 'pane_activity', 'window_activity',
];

/**
 * Each tmux line starts and ends with a per-run nonce: a name holding a newline splits its line
 * into pieces that lack one end, so no name can forge a whole line of the right shape.
 */
const tmuxFormat = (vars: string[], nonce: string) => [nonce, ...vars.map((v) => `#{${v}}`), nonce].join('\t');

// Runs "$@" with its stdout passing through and its stderr kept in $vc_err (to tell "no server" apart).
const PRELUDE = `vc_capture() {
  exec 3>&1
  vc_err=$("$@" 2>&1 1>&3 3>&-)
  vc_rc=$?
  exec 3>&-
  return "$vc_rc"
}
vc_err=`;

// GNU find reads every cwd link in one process; elsewhere fall back to readlink per process.
// Records end in NUL, the one byte a path cannot hold.
const CWD_SNIPPET = `if find /proc/self/cwd -maxdepth 0 -printf '' >/dev/null 2>&1; then
  find /proc/[0-9]*/cwd -maxdepth 0 -printf '%p %l\\0' 2>/dev/null
else
  for d in /proc/[0-9]*/cwd; do l=$(readlink "$d" 2>/dev/null) && printf '%s %s\\0' "$d" "$l"; done
fi
true`;

const tmuxSnippet = (command: string, format: string) =>
  `if command -v tmux >/dev/null 2>&1; then vc_capture tmux ${command} -F '${format}'; else vc_err=; fi`;

export interface AgentsScript extends SectionScript {
  lineNonce: string;
}

export function buildAgentsScript(): AgentsScript {
  const lineNonce = `vc${randomBytes(8).toString('hex')}`;
  const s = sectionScript([
    ['clk', 'getconf CLK_TCK; getconf PAGESIZE'],
    ['btime', "grep '^btime ' /proc/stat"],
    ['tmux_path', 'command -v tmux || true'],
    ['tmux_sessions', tmuxSnippet('list-sessions', tmuxFormat(SESSION_FORMAT, lineNonce))],
    ['tmux_sessions_err', 'printf \'%s\\n\' "$vc_err"'],
    ['tmux_panes', tmuxSnippet('list-panes -a', tmuxFormat(PANE_FORMAT, lineNonce))],
    ['tmux_panes_err', 'printf \'%s\\n\' "$vc_err"'],
    ['procs', 'cat /proc/[0-9]*/stat 2>/dev/null'],
    ['ps', 'ps -eo pid=,user=,args= -ww 2>/dev/null || ps -eo pid=,user=,args='],
    ['cwd', CWD_SNIPPET],
  ], PRELUDE);
  return { ...s, lineNonce };
}

/** Untrusted text made fit for a one-line message. */
const clean = (s: string, max = 120) => JSON.stringify(s.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, max));

const epochIso = (s: string): string | null => (/^\d{1,12}$/.test(s) ? new Date(Number(s) * 1000).toISOString() : null);
const toInt = (s: string): number | null => (/^\d{1,12}$/.test(s) ? Number(s) : null);

/** Splits a tmux section into field arrays, keeping only nonce-framed lines with `count` fields. */
function framedLines(text: string, nonce: string, count: number): { rows: string[][]; bad: string[] } {
  const rows: string[][] = [];
  const bad: string[] = [];
  const head = `${nonce}\t`;
  const tail = `\t${nonce}`;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const framed = line.startsWith(head) && line.endsWith(tail) && line.length >= head.length + tail.length;
    const f = framed ? line.slice(head.length, line.length - tail.length).split('\t') : [];
    if (f.length === count) rows.push(f);
    else bad.push(line.split(nonce).join('…'));
  }
  return { rows, bad };
}

interface TmuxSession {
  name: string; id: string; createdAt: string | null; activityAt: string | null; attached: boolean | null; windows: number | null;
}

interface TmuxPane {
  session: string; sessionId: string; windowIndex: number; windowName: string; paneIndex: number; paneId: string;
  panePid: number; command: string; path: string; dead: boolean | null; activityAt: string | null;
}

function toSession(f: string[]): TmuxSession | null {
  const [name, id, created, activity, attached, windows] = f as [string, string, string, string, string, string];
  if (!/^\$\d+$/.test(id)) return null;
  const clients = toInt(attached);
  return {
    name, id, createdAt: epochIso(created), activityAt: epochIso(activity),
    attached: clients === null ? null : clients > 0, windows: toInt(windows),
  };
}

function toPane(f: string[]): TmuxPane | null {
  const [session, sessionId, window, windowName, pane, paneId, pid, command, path, dead, paneActivity, windowActivity] =
    f as [string, string, string, string, string, string, string, string, string, string, string, string];
  const windowIndex = toInt(window);
  const paneIndex = toInt(pane);
  const panePid = toInt(pid);
  if (!/^\$\d+$/.test(sessionId) || !/^%\d+$/.test(paneId) || windowIndex === null || paneIndex === null || !panePid) return null;
  return {
    session, sessionId, windowIndex, windowName, paneIndex, paneId, panePid, command, path,
    dead: dead === '1' ? true : dead === '0' ? false : null,
    activityAt: epochIso(paneActivity) ?? epochIso(windowActivity),
  };
}

const NO_SERVER = /no server running|error connecting to|failed to connect to server|no sessions/i;

/** Rows of one tmux listing, or none (with a warning saying why) when tmux is absent or idle. */
function tmuxRows<T>(
  sections: Map<string, Section>, what: 'session' | 'pane', nonce: string, count: number,
  toRow: (f: string[]) => T | null, warn: (m: string) => void,
): T[] {
  const name = what === 'session' ? 'tmux_sessions' : 'tmux_panes';
  const section = sections.get(name);
  const text = sectionText(sections, name);
  if (section?.rc !== 0) {
    const err = (sections.get(`${name}_err`)?.text ?? '').trim().split('\n')[0] ?? '';
    if (NO_SERVER.test(err)) {
      if (what === 'session') warn(`no tmux server is running: ${clean(err)}`);
    } else {
      warn(`tmux list-${what}s failed (exit ${section?.rc ?? 'unknown'}): ${clean(err)}`);
    }
    return [];
  }
  const { rows, bad } = framedLines(text, nonce, count);
  const out: T[] = [];
  for (const f of rows) {
    const row = toRow(f);
    if (row) out.push(row);
    else bad.push(f.join('\t'));
  }
  if (bad.length > 0) warn(`skipped ${bad.length} tmux ${what} line(s) with the wrong field count or values, e.g. ${clean(bad[0]!)}`);
  return out;
}

interface PsRow { user: string; args: string }

/** `ps -eo pid=,user=,args=`; the first row of a pid wins, so a later forged row cannot replace it. */
export function parsePs(text: string): Map<number, PsRow> {
  const rows = new Map<number, PsRow>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+) ?(.*)$/.exec(line);
    if (m && !rows.has(Number(m[1]))) rows.set(Number(m[1]), { user: m[2]!, args: m[3]!.trim() });
  }
  return rows;
}

/** NUL-terminated "/proc/<pid>/cwd <target>" records; an unreadable link has no target. */
export function parseCwds(text: string): Map<number, string> {
  const cwds = new Map<number, string>();
  for (const rec of text.split('\0')) {
    const m = /^\n?\/proc\/(\d+)\/cwd (.+)$/s.exec(rec);
    if (m) cwds.set(Number(m[1]), m[2]!);
  }
  return cwds;
}

const INTERPRETER = /^(node|nodejs|bun|deno|python[0-9.]*|sh|bash|dash)$/;
const JS_RUNTIME = /^(node|nodejs|bun|deno)$/;
/** npm packages whose entry point a JS runtime runs under a generic name. */
const PACKAGES: ReadonlyArray<readonly [string, string]> = [
  ['@anthropic-ai/claude-code', 'claude'], ['@openai/codex', 'codex'], ['@google/gemini-cli', 'gemini'],
];

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const stripExt = (b: string) => b.replace(/(.)\.[^.]*$/, '$1');

/**
 * The agent a process is, or null. The package path must be a directory on the path a runtime
 * runs (or of the program itself), so `npm i -g @openai/codex` or a grep through a package is no agent.
 */
export function matchAgent(comm: string, argv: readonly string[], names: readonly string[]): string | null {
  const wanted = new Set(names);
  const arg0 = basename(argv[0] ?? '');
  const candidates = [comm, arg0];
  if (INTERPRETER.test(arg0) && argv[1]) candidates.push(basename(argv[1]), stripExt(basename(argv[1])));
  const hit = candidates.find((c) => wanted.has(c));
  if (hit) return hit;
  const paths = JS_RUNTIME.test(arg0) ? argv : argv.slice(0, 1);
  for (const [pkg, agent] of PACKAGES) {
    if (wanted.has(agent) && paths.some((a) => a.includes(`/${pkg}/`))) return agent;
  }
  return null;
}

/** Strict ancestors of pid, nearest first; stops at a loop (pids can be reused mid-snapshot). */
function ancestors(pid: number, byPid: Map<number, ProcStat>): number[] {
  const seen = new Set([pid]);
  const out: number[] = [];
  for (let p = byPid.get(pid)?.ppid; p && !seen.has(p); p = byPid.get(p)?.ppid) {
    seen.add(p);
    out.push(p);
  }
  return out;
}

interface AgentProc { proc: ProcStat; agent: string; args: string; user: string | null; pane: TmuxPane | null; depth: number }

/** Top-most matched processes (a wrapper's same-agent children are skipped), each with its pane. */
function findAgents(procs: ProcStat[], ps: Map<number, PsRow>, panes: TmuxPane[], names: readonly string[]): AgentProc[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const matched = new Map<number, string>();
  for (const p of procs) {
    const args = ps.get(p.pid)?.args ?? '';
    const agent = matchAgent(p.comm, args.split(/\s+/).filter(Boolean), names);
    if (agent) matched.set(p.pid, agent);
  }
  const paneByPid = new Map(panes.map((p) => [p.panePid, p]));
  const out: AgentProc[] = [];
  for (const [pid, agent] of matched) {
    const up = ancestors(pid, byPid);
    if (up.some((a) => matched.get(a) === agent)) continue;
    const depth = [pid, ...up].findIndex((a) => paneByPid.has(a));
    const row = ps.get(pid);
    out.push({
      proc: byPid.get(pid)!, agent, args: row?.args ?? '', user: row?.user ?? null,
      pane: depth >= 0 ? paneByPid.get([pid, ...up][depth]!)! : null, depth,
    });
  }
  return out.sort((a, b) => a.proc.pid - b.proc.pid);
}

interface Clock { hz: number; pageSize: number; btime: number | null }

function parseClock(sections: Map<string, Section>): Clock {
  const [hz, pageSize] = sectionText(sections, 'clk').trim().split(/\s+/).map(Number);
  if (!hz || !pageSize) throw new Error(`getconf CLK_TCK/PAGESIZE printed ${clean(sectionText(sections, 'clk'))}`);
  const btime = /^btime (\d+)/m.exec(sections.get('btime')?.text ?? '');
  return { hz, pageSize, btime: btime ? Number(btime[1]) : null };
}

const sessionItem = (s: TmuxSession): AgentsItem => ({
  ...BLANK, type: 'session', session: s.name, session_id: s.id, session_created_at: s.createdAt,
  session_activity_at: s.activityAt, session_attached: s.attached, session_windows: s.windows,
});

const paneWhere = (p: TmuxPane | null) => (p ? {
  session: p.session, session_id: p.sessionId, window_index: p.windowIndex, window_name: p.windowName,
  pane_index: p.paneIndex, pane_id: p.paneId, pane_pid: p.panePid,
} : {});

const paneItem = (p: TmuxPane, agent: string | null): AgentsItem => ({
  ...BLANK, ...paneWhere(p), type: 'pane', session: p.session, pane_id: p.paneId, pid: null,
  pane_command: p.command, pane_path: p.path, pane_dead: p.dead, pane_activity_at: p.activityAt, agent,
});

function processItem(a: AgentProc, cwd: string | null, clock: Clock): AgentsItem {
  const p = a.proc;
  return {
    ...BLANK, ...paneWhere(a.pane), type: 'process', pid: p.pid, ppid: p.ppid, agent: a.agent, comm: p.comm,
    args: a.args.slice(0, ARGS_MAX), cwd, state: p.state,
    cpu_seconds: Math.round(((p.utime + p.stime) / clock.hz) * 100) / 100,
    rss_bytes: p.rssPages * clock.pageSize,
    started_at: clock.btime !== null ? new Date((clock.btime + p.starttime / clock.hz) * 1000).toISOString() : null,
    user: a.user,
  };
}

/** The agent of each pane: the matched process nearest to the pane's own process. */
function paneAgents(agents: AgentProc[]): Map<string, string> {
  const best = new Map<string, AgentProc>();
  for (const a of agents) {
    if (!a.pane) continue;
    const prev = best.get(a.pane.paneId);
    if (!prev || a.depth < prev.depth) best.set(a.pane.paneId, a);
  }
  return new Map([...best].map(([pane, a]) => [pane, a.agent]));
}

export interface AgentsParseResult { items: AgentsItem[]; warnings: string[] }

export function parseAgentsOutput(
  sections: Map<string, Section>, opts: { names: readonly string[]; lineNonce: string },
): AgentsParseResult {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const clock = parseClock(sections);
  let sessions: TmuxSession[] = [];
  let panes: TmuxPane[] = [];
  if (sectionText(sections, 'tmux_path').trim() === '') {
    warn('tmux is not installed: no sessions reported');
  } else {
    sessions = tmuxRows(sections, 'session', opts.lineNonce, SESSION_FORMAT.length, toSession, warn);
    // Without sessions there are no panes; a server that just exited needs no second warning.
    panes = sessions.length > 0 ? tmuxRows(sections, 'pane', opts.lineNonce, PANE_FORMAT.length, toPane, warn) : [];
  }
  const procs = parseProcStat(sectionText(sections, 'procs'));
  if (procs.length === 0) throw new Error('cat /proc/[0-9]*/stat printed no processes');
  const agents = findAgents(procs, parsePs(sectionText(sections, 'ps')), panes, opts.names);
  const cwds = parseCwds(sectionText(sections, 'cwd'));
  const byPane = paneAgents(agents);
  const items = [
    ...[...sessions].sort((a, b) => a.name.localeCompare(b.name)).map(sessionItem),
    ...panes.map((p) => paneItem(p, byPane.get(p.paneId) ?? null)),
    ...agents.map((a) => processItem(a, cwds.get(a.proc.pid) ?? null, clock)),
  ];
  return { items, warnings };
}

// Description, interval (120 s) and timeout (30 s) defaults live in lib/catalog.ts.
export const agentsCollector: CollectorDef = {
  name: 'agents',
  version: '1.0.0',
  schemaVersion: 1,
  schema: agentsSchema,
  async collect(ctx) {
    const script = buildAgentsScript();
    const r = await ctx.run('agents probe', script.script);
    const out = parseAgentsOutput(script.parse(r.stdout), { names: ctx.config.collectors.agents.names, lineNonce: script.lineNonce });
    for (const w of out.warnings) ctx.warn(w);
    return { items: out.items.map((data) => ({ data })) };
  },
};
