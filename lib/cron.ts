// `vc cron`: schedules `vc cron run` every minute (the collectors that are due, then the alert
// rules and a snapshot when due), either as a marked block in the user's crontab or as a systemd user timer, rendered from the templates in cron/. The renderers and the
// crontab text edits are pure; the functions that touch the crontab, unit files and systemctl first
// build a plan and change nothing unless asked to apply it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, LoadedConfig } from './config.ts';
import { execArgv, execFailure, type ExecOptions } from './exec.ts';
import { repoRoot, xdgConfigHome } from './paths.ts';
import { shQuote } from './shell.ts';

// ---------------------------------------------------------------------------------------------
// What gets scheduled

export interface ScheduleSpec {
  /** Absolute path of bin/vc. */
  vcPath: string;
  /** Where the scheduled runs append their stdout and stderr. */
  logFile: string;
  /** Variables the command needs, in order: cron and systemd pass almost none of the user's. */
  env: ReadonlyArray<readonly [name: string, value: string]>;
}

export interface SpecOverrides {
  /** Defaults to process.env: decides which variables are pinned. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to the node binary running now. */
  nodePath?: string;
  /** Defaults to bin/vc of this checkout. */
  vcPath?: string;
}

export const logFileFor = (dataDir: string) => path.join(dataDir, 'logs', 'cron.log');

/**
 * The data dir must be pinned when the environment chose it (VC_DATA_DIR, or the default under
 * XDG_DATA_HOME): cron sets neither, and the systemd user manager need not.
 */
function dataDirFromEnv(loaded: { config: Pick<Config, 'data_dir'> }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.VC_DATA_DIR) || (!loaded.config.data_dir && Boolean(env.XDG_DATA_HOME));
}

/** What to schedule for the config vc runs with now. */
export function scheduleSpec(
  loaded: Pick<LoadedConfig, 'path' | 'dataDir'> & { config: Pick<Config, 'data_dir'> },
  overrides: SpecOverrides = {},
): ScheduleSpec {
  const env = overrides.env ?? process.env;
  const vars: Array<[string, string]> = [['VC_NODE', overrides.nodePath ?? process.execPath]];
  if (loaded.path !== null) vars.push(['VC_CONFIG', path.resolve(loaded.path)]);
  if (dataDirFromEnv(loaded, env)) vars.push(['VC_DATA_DIR', path.resolve(loaded.dataDir)]);
  return {
    vcPath: overrides.vcPath ?? path.join(repoRoot, 'bin', 'vc'),
    logFile: logFileFor(path.resolve(loaded.dataDir)),
    env: vars,
  };
}

// ---------------------------------------------------------------------------------------------
// Templates

const PLACEHOLDER = /\{\{([A-Z][A-Z0-9_]*)\}\}/g;

export const readTemplate = (name: string) => fs.readFileSync(path.join(repoRoot, 'cron', name), 'utf8');

/**
 * Replaces each `{{NAME}}` in one pass (so substituted text is never re-read as a placeholder).
 * A placeholder without a value, a value without a placeholder, or a stray `{{`/`}}` is a bug in
 * the template or in vc, and is reported rather than rendered into a broken schedule.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>, name = 'template'): string {
  const stray = template.replace(PLACEHOLDER, '').match(/\{\{|\}\}/);
  if (stray) throw new Error(`${name}: malformed placeholder near "${stray[0]}" (expected {{NAME}} in capitals)`);
  const used = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${name}: unknown placeholder {{${key}}}`);
    used.add(key);
    return value;
  });
  const missing = Object.keys(values).filter((key) => !used.has(key));
  if (missing.length) throw new Error(`${name}: missing placeholder ${missing.map((k) => `{{${k}}}`).join(', ')}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Quoting

/** A line-based file (crontab, unit) cannot carry a value with a line break or other control character. */
function assertOneLine(value: string, what: string): void {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`${what} contains a control character (e.g. a newline), which cannot be scheduled: ${JSON.stringify(value)}`);
}

/**
 * One shell word for a crontab command. cron turns an unescaped `%` into a newline and strips the
 * backslash of `\%`. Each `%` is therefore placed outside the single quotes as `\%`: inside them, a
 * value's own backslash right before it would turn `\\%` back into a bare `%`.
 */
export function cronWord(value: string): string {
  assertOneLine(value, 'crontab value');
  return shQuote(value).replaceAll('%', `'\\%'`);
}

const systemdEscape = (value: string) => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%');

/**
 * The executable of ExecStart=: systemd resolves `%` specifiers in it, but not `$VAR`s (those only
 * in arguments), and refuses quotes or backslashes.
 */
export function systemdExecPath(value: string): string {
  assertOneLine(value, 'executable path');
  if (/["'\\]/.test(value)) {
    throw new Error(`systemd refuses an executable path containing quotes or backslashes: ${value}; use the crontab (vc cron install) or move the checkout`);
  }
  return `"${systemdEscape(value)}"`;
}

/** An Environment= line: quoted and C-unescaped, `%` specifiers resolved, no `$` expansion. */
export function systemdEnvironment(name: string, value: string): string {
  assertOneLine(value, name);
  return `Environment="${name}=${systemdEscape(value)}"`;
}

/** The path of StandardOutput=append: is taken verbatim, apart from `%` specifiers. */
export function systemdPath(value: string): string {
  assertOneLine(value, 'log path');
  return value.replaceAll('%', '%%');
}

/** A command for people to read or paste: words quoted only when they need it. */
export const displayCommand = (argv: readonly string[]) =>
  argv.map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : shQuote(word))).join(' ');

// ---------------------------------------------------------------------------------------------
// Crontab text

export const BLOCK_BEGIN = "# >>> vc: managed by 'vc cron', do not edit inside >>>";
export const BLOCK_END = '# <<< vc <<<';
// Matched loosely, so that a hand-edited marker is reported as a broken block, not duplicated.
const BEGIN_RE = /^\s*#\s*>>>\s*vc\b/;
const END_RE = /^\s*#\s*<<<\s*vc\b/;

/** Lines that keep their own "\n", so joining them gives back the text byte for byte. */
const splitLines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

export function renderCrontabBlock(spec: ScheduleSpec, template = readTemplate('crontab.tmpl')): string {
  const block = renderTemplate(template, {
    BEGIN_MARKER: BLOCK_BEGIN,
    END_MARKER: BLOCK_END,
    ENV: spec.env.map(([name, value]) => `${name}=${cronWord(value)}`).join(' '),
    VC: cronWord(spec.vcPath),
    LOG_FILE: cronWord(spec.logFile),
  }, 'cron/crontab.tmpl');
  const lines = splitLines(block);
  const markers = lines.filter((line) => BEGIN_RE.test(line) || END_RE.test(line)).length;
  if (lines[0] !== `${BLOCK_BEGIN}\n` || lines.at(-1) !== `${BLOCK_END}\n` || markers !== 2) {
    throw new Error('cron/crontab.tmpl must start with {{BEGIN_MARKER}}, end with {{END_MARKER}} and a newline, and hold no other marker');
  }
  return block;
}

/** Where the vc block is (0-based line indexes, inclusive), or null. A broken block is refused, never guessed at. */
export function findBlock(lines: readonly string[]): { begin: number; end: number } | null {
  const at = (re: RegExp) => lines.flatMap((line, i) => (re.test(line) ? [i] : []));
  const begins = at(BEGIN_RE);
  const ends = at(END_RE);
  const [begin] = begins;
  const [end] = ends;
  if (begin === undefined && end === undefined) return null;
  const where = (list: number[]) => list.map((i) => i + 1).join(', ');
  const broken = (why: string) =>
    new Error(`refusing to edit the crontab: its vc block is broken (${why}). Fix it with \`crontab -e\` (delete the vc lines), then run this again.`);
  if (begins.length > 1 || ends.length > 1) {
    throw broken(`more than one block: start markers on lines ${where(begins) || '-'}, end markers on lines ${where(ends) || '-'}`);
  }
  if (end === undefined) throw broken(`start marker on line ${begin! + 1} has no end marker "${BLOCK_END}"`);
  if (begin === undefined) throw broken(`end marker on line ${end + 1} has no start marker "${BLOCK_BEGIN}"`);
  if (end < begin) throw broken(`end marker on line ${end + 1} comes before the start marker on line ${begin + 1}`);
  return { begin, end };
}

/** The crontab with `block` in place of the existing vc block, or appended; every other byte kept. */
export function mergeBlock(text: string, block: string): string {
  const lines = splitLines(text);
  const found = findBlock(lines);
  if (found) return [...lines.slice(0, found.begin), block, ...lines.slice(found.end + 1)].join('');
  // The last line needs its newline, or the start marker would join it.
  return text + (text === '' || text.endsWith('\n') ? '' : '\n') + block;
}

/** The crontab without the vc block; every other byte kept. */
export function removeBlock(text: string): string {
  const lines = splitLines(text);
  const found = findBlock(lines);
  return found ? [...lines.slice(0, found.begin), ...lines.slice(found.end + 1)].join('') : text;
}

// ---------------------------------------------------------------------------------------------
// systemd units

export const SERVICE_UNIT = 'vc-collect.service';
export const TIMER_UNIT = 'vc-collect.timer';
/** Present in every unit file vc writes; without it, vc neither overwrites nor deletes the file. */
export const UNIT_MARKER = "# vc: managed by 'vc cron'; `vc cron uninstall --systemd` removes this file.";
const UNIT_MARKER_PREFIX = "# vc: managed by 'vc cron'";

export const userUnitDir = () => path.join(xdgConfigHome(), 'systemd', 'user');
const hasMarker = (text: string) => text.split('\n').some((line) => line.startsWith(UNIT_MARKER_PREFIX));

export function renderUnits(
  spec: ScheduleSpec,
  templates = { service: readTemplate(`${SERVICE_UNIT}.tmpl`), timer: readTemplate(`${TIMER_UNIT}.tmpl`) },
): { service: string; timer: string } {
  const service = renderTemplate(templates.service, {
    MARKER: UNIT_MARKER,
    ENVIRONMENT: spec.env.map(([name, value]) => systemdEnvironment(name, value)).join('\n'),
    VC: systemdExecPath(spec.vcPath),
    LOG_FILE: systemdPath(spec.logFile),
  }, `cron/${SERVICE_UNIT}.tmpl`);
  const timer = renderTemplate(templates.timer, { MARKER: UNIT_MARKER }, `cron/${TIMER_UNIT}.tmpl`);
  return { service, timer };
}

// ---------------------------------------------------------------------------------------------
// Plans and results

export interface Change {
  /** 'crontab' (the current user's) or the absolute path of a file. */
  target: string;
  action: 'create' | 'update' | 'delete' | 'unchanged';
  /** Content before; null when absent. */
  before: string | null;
  /** The full new content; null when the file is (to be) deleted or stays absent. */
  after: string | null;
  /** Readable line diff: "  " context, "- " removed, "+ " added. Empty when unchanged. */
  diff: string;
  /** Whether the change was made (false in a dry run, or when an earlier step failed). */
  done: boolean;
}

export interface CronResult {
  action: 'install' | 'uninstall';
  mode: 'crontab' | 'systemd';
  /** False for a dry run: nothing was touched. */
  applied: boolean;
  /** False when applying failed part way; `error` says what and what to run by hand. */
  ok: boolean;
  error: string | null;
  changes: Change[];
  /** Directories created (or to be created). */
  dirs: string[];
  /** The commands the plan runs, for display. */
  commands: string[];
  /** Those of `commands` that ran and succeeded. */
  ran: string[];
  /** The plan or outcome for people: what changes, with diffs. */
  summary: string;
}

export interface CrontabOptions {
  apply: boolean;
  /** The crontab program; default `crontab` from PATH. */
  crontab?: string;
}

export interface SystemdOptions {
  apply: boolean;
  /** The argv prefix for systemctl; default `systemctl --user`. */
  systemctl?: readonly string[];
}

/** A readable diff of two texts: the changed run of lines with a little context around it. */
export function lineDiff(before: string, after: string, context = 2): string {
  if (before === after) return '';
  const a = splitLines(before).map((l) => l.replace(/\n$/, ''));
  const b = splitLines(after).map((l) => l.replace(/\n$/, ''));
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const from = Math.max(0, head - context);
  const to = Math.min(a.length, a.length - tail + context);
  return [
    ...(from > 0 ? ['  ...'] : []),
    ...a.slice(from, head).map((l) => `  ${l}`),
    ...a.slice(head, a.length - tail).map((l) => `- ${l}`),
    ...b.slice(head, b.length - tail).map((l) => `+ ${l}`),
    ...a.slice(a.length - tail, to).map((l) => `  ${l}`),
    ...(to < a.length ? ['  ...'] : []),
  ].join('\n');
}

function change(target: string, before: string | null, after: string | null): Change {
  const action = before === after ? 'unchanged' : before === null ? 'create' : after === null ? 'delete' : 'update';
  return { target, action, before, after, diff: lineDiff(before ?? '', after ?? ''), done: false };
}

const VERBS = {
  create: ['create', 'created'], update: ['update', 'updated'], delete: ['delete', 'deleted'], unchanged: ['', ''],
} as const;

/** The login name, for messages; os.userInfo() throws for a uid without a passwd entry (containers). */
function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

function summarize(r: Omit<CronResult, 'summary'>): string {
  const out: string[] = [];
  const label = (c: Change) => (c.target === 'crontab' ? `the crontab of ${userName()}` : c.target);
  for (const dir of r.dirs) out.push(`${r.applied ? 'ensured' : 'would ensure'} directory ${dir}`);
  for (const c of r.changes) {
    if (c.action === 'unchanged') {
      out.push(`${label(c)}: ${c.after === null ? 'absent' : 'already up to date'}`);
      continue;
    }
    const [verb, past] = VERBS[c.action];
    out.push(`${c.done ? past : r.applied ? `did not ${verb}` : `would ${verb}`} ${label(c)}:`);
    out.push(c.diff.split('\n').map((line) => `    ${line}`.trimEnd()).join('\n'));
  }
  for (const cmd of r.applied ? r.ran : r.commands) out.push(`${r.applied ? 'ran' : 'would run'}: ${cmd}`);
  if (!r.changes.some((c) => c.action !== 'unchanged') && !r.commands.length) out.push(`nothing to ${r.action}`);
  else if (!r.applied) out.push('Dry run: nothing was changed. Pass --yes to apply.');
  if (r.error) out.push(`error: ${r.error}`);
  return out.join('\n');
}

const result = (r: Omit<CronResult, 'summary'>): CronResult => ({ ...r, summary: summarize(r) });

// ---------------------------------------------------------------------------------------------
// Side effects: crontab

const LIMITS: Pick<ExecOptions, 'timeoutMs' | 'maxBytes'> = { timeoutMs: 30_000, maxBytes: 1 << 20 };

/** The current user's crontab; '' when there is none. Any other failure is an error. */
export async function readCrontab(crontab = 'crontab'): Promise<string> {
  const r = await execArgv([crontab, '-l'], LIMITS);
  if (r.code === 1 && /^no crontab for /m.test(r.stderr)) return '';
  const failed = execFailure(`${crontab} -l`, r, LIMITS);
  if (failed) throw new Error(`cannot read the crontab: ${failed}`);
  return r.stdout;
}

export async function writeCrontab(text: string, crontab = 'crontab'): Promise<void> {
  // crontab(1) rejects a last line without its newline; only a hand-made spool file lacks it.
  const input = text && !text.endsWith('\n') ? `${text}\n` : text;
  const failed = execFailure(`${crontab} -`, await execArgv([crontab, '-'], { ...LIMITS, input }), LIMITS);
  if (failed) throw new Error(`cannot write the crontab: ${failed}`);
}

const logsDir = (spec: ScheduleSpec) => path.dirname(spec.logFile);

/** Puts the vc block into the crontab (replacing an existing one), and creates the logs dir. */
export async function installCrontab(spec: ScheduleSpec, opts: CrontabOptions): Promise<CronResult> {
  const before = await readCrontab(opts.crontab);
  const planned = change('crontab', before, mergeBlock(before, renderCrontabBlock(spec)));
  if (opts.apply) {
    fs.mkdirSync(logsDir(spec), { recursive: true });
    if (planned.action !== 'unchanged') {
      await writeCrontab(planned.after ?? '', opts.crontab);
      planned.done = true;
    }
  }
  return result({
    action: 'install', mode: 'crontab', applied: opts.apply, ok: true, error: null,
    changes: [planned], dirs: [logsDir(spec)], commands: [], ran: [],
  });
}

/** Takes the vc block out of the crontab, leaving every other line as it was. */
export async function uninstallCrontab(opts: CrontabOptions): Promise<CronResult> {
  const before = await readCrontab(opts.crontab);
  const planned = change('crontab', before, removeBlock(before));
  if (opts.apply && planned.action !== 'unchanged') {
    await writeCrontab(planned.after ?? '', opts.crontab);
    planned.done = true;
  }
  return result({
    action: 'uninstall', mode: 'crontab', applied: opts.apply, ok: true, error: null,
    changes: [planned], dirs: [], commands: [], ran: [],
  });
}

// ---------------------------------------------------------------------------------------------
// Side effects: systemd

const readIfExists = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
};

/** Refuses to overwrite or delete a unit file that vc did not write. */
function assertOurs(c: Change, doing: string): void {
  if (c.before !== null && !hasMarker(c.before)) {
    throw new Error(`refusing to ${doing} ${c.target}: vc did not write it (it lacks the line "${UNIT_MARKER_PREFIX}..."). Move it away or edit it yourself.`);
  }
}

/** Replaces a file in one rename, so systemd never reads a half-written unit. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.vc-tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

type Argv = readonly string[];

/**
 * Runs each command in turn. On the first failure, returns what failed, what state that leaves,
 * and every command the user still has to run (the rest of `steps`, then `then`).
 */
async function runSteps(
  steps: readonly Argv[], ran: string[], whatIsDone: string, then: readonly Argv[] = [],
): Promise<string | null> {
  for (const [i, argv] of steps.entries()) {
    const r = await execArgv(argv, LIMITS);
    const failed = execFailure(displayCommand(argv), r, LIMITS);
    if (!failed) {
      ran.push(displayCommand(argv));
      continue;
    }
    const todo = [...steps.slice(i), ...then].map((s) => `  ${displayCommand(s)}`).join('\n');
    const noBus = /Failed to connect to bus|XDG_RUNTIME_DIR/.test(r.stderr)
      ? '\n(No systemd user manager is reachable from here, as in containers or `su` shells: run them in a login session of this user, or use the crontab instead: vc cron install.)'
      : '';
    return `${failed}\n${whatIsDone} To finish, run:\n${todo}${noBus}`;
  }
  return null;
}

const systemctlArgv = (opts: SystemdOptions) => opts.systemctl ?? ['systemctl', '--user'];

/**
 * Writes the service and timer into the user unit dir, then reloads systemd and enables the timer.
 * If systemctl fails, the files stay written and the result says which commands to run.
 */
export async function installSystemd(spec: ScheduleSpec, opts: SystemdOptions): Promise<CronResult> {
  const dir = userUnitDir();
  const units = renderUnits(spec);
  const changes = [
    change(path.join(dir, SERVICE_UNIT), readIfExists(path.join(dir, SERVICE_UNIT)), units.service),
    change(path.join(dir, TIMER_UNIT), readIfExists(path.join(dir, TIMER_UNIT)), units.timer),
  ];
  changes.forEach((c) => assertOurs(c, 'overwrite'));
  const sc = systemctlArgv(opts);
  // Run even when the files are unchanged: a previous install may have failed to enable the timer.
  const steps = [[...sc, 'daemon-reload'], [...sc, 'enable', '--now', TIMER_UNIT]];
  let error: string | null = null;
  const ran: string[] = [];
  if (opts.apply) {
    fs.mkdirSync(logsDir(spec), { recursive: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const c of changes.filter((c) => c.action !== 'unchanged')) {
      writeAtomic(c.target, c.after ?? '');
      c.done = true;
    }
    error = await runSteps(steps, ran, `The unit files are written to ${dir}, but the timer is not active.`);
  }
  return result({
    action: 'install', mode: 'systemd', applied: opts.apply, ok: error === null, error,
    changes, dirs: [logsDir(spec), dir], commands: steps.map(displayCommand), ran,
  });
}

/**
 * Disables the timer, deletes the two unit files and reloads systemd. If disabling fails the files
 * are kept (deleting them under a running timer would leave it orphaned) and the result says what to run.
 */
export async function uninstallSystemd(opts: SystemdOptions): Promise<CronResult> {
  const dir = userUnitDir();
  const changes = [SERVICE_UNIT, TIMER_UNIT].map((name) => {
    const file = path.join(dir, name);
    return change(file, readIfExists(file), null);
  });
  changes.forEach((c) => assertOurs(c, 'delete'));
  const present = changes.filter((c) => c.action === 'delete');
  const timerPresent = present.some((c) => path.basename(c.target) === TIMER_UNIT);
  const sc = systemctlArgv(opts);
  const disable = timerPresent ? [[...sc, 'disable', '--now', TIMER_UNIT]] : [];
  const reload = present.length ? [[...sc, 'daemon-reload']] : [];
  let error: string | null = null;
  const ran: string[] = [];
  if (opts.apply && present.length) {
    const rm = ['rm', '--', ...present.map((c) => c.target)];
    error = await runSteps(disable, ran, 'The unit files are kept.', [rm, ...reload]);
    if (!error) {
      for (const c of present) {
        fs.rmSync(c.target);
        c.done = true;
      }
      error = await runSteps(reload, ran, 'The unit files are deleted.');
    }
  }
  return result({
    action: 'uninstall', mode: 'systemd', applied: opts.apply, ok: error === null, error,
    changes, dirs: [], commands: [...disable, ...reload].map(displayCommand), ran,
  });
}

// ---------------------------------------------------------------------------------------------
// vc cron print

/** What install would write: the crontab block, or both unit files under a comment naming their path. */
export function printSchedule(spec: ScheduleSpec, opts: { systemd: boolean }): string {
  if (!opts.systemd) return renderCrontabBlock(spec);
  const units = renderUnits(spec);
  const dir = userUnitDir();
  return `# ${path.join(dir, SERVICE_UNIT)}\n${units.service}\n# ${path.join(dir, TIMER_UNIT)}\n${units.timer}`;
}
