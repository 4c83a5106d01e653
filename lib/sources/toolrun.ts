// Running an upstream tool (caut, ntm, rch, ...) on a machine for a collector: one sh script finds
// the tool (command -v) and runs its steps, each step's stdout, stderr and exit status kept apart,
// each bounded by its own timeout, so one hung step still leaves the others' output. A tool that
// is not installed makes the run `absent`, not an error. What the tool prints is untrusted: the
// parsers below turn it into clear errors naming the tool, the step and what was wrong.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { CollectContext } from '../collector.ts';
import { describeIssues } from '../config.ts';
import { sectionScript, sectionText, type Section } from '../sections.ts';
import { shQuote } from '../shell.ts';

export interface ToolStep {
  /** A word: the step's name in errors and in the result. */
  name: string;
  /** A sh snippet run with the tool's path in "$VC_TOOL"; its stdout is the step's output. */
  run: string;
  /** Seconds before the step is killed (through timeout(1) where the machine has it). */
  timeoutSeconds?: number;
}

export interface StepResult {
  stdout: string;
  /** The step's stderr, cut to its last 64 KiB. */
  stderr: string;
  /** Exit status; 124 when timeout(1) stopped it; null when the script never finished it. */
  rc: number | null;
}

export type ToolRun =
  | { absent: string }
  | { path: string; steps: Record<string, StepResult> };

const WORD = /^[a-z][a-z0-9_]*$/;
const PROGRAM = /^[A-Za-z0-9._+-]+$/;
/** stderr kept per step: the end is where tools put their final error. */
const STDERR_BYTES = 65536;
const DEFAULT_STEP_TIMEOUT = 60;

/** A private temp dir, removed at exit, and vc_in SECONDS CMD...: timeout(1) where there is one. */
const RUNNER_PRELUDE = [
  'VC_TMP=$(mktemp -d 2>/dev/null) || { VC_TMP=/tmp/vc-tool.$$; mkdir -m 700 "$VC_TMP" || exit 1; }',
  `trap 'rm -rf "$VC_TMP"' EXIT`,
  // timeout(1) where there is one: a step past its time is killed, the others still run.
  'vc_in() { vc_s=$1; shift; if command -v timeout >/dev/null 2>&1; then timeout "$vc_s" "$@"; else "$@"; fi; }',
].join('\n');

/** The script for a tool's steps (exported for tests). Programs are plain words, checked here. */
export function toolScript(programs: readonly string[], steps: readonly ToolStep[]) {
  for (const p of programs) if (!PROGRAM.test(p)) throw new Error(`not a plain program name: ${JSON.stringify(p)}`);
  for (const s of steps) if (!WORD.test(s.name)) throw new Error(`not a step name: ${JSON.stringify(s.name)}`);
  // The first of the programs found is the tool (a tool may be installed under more than one name).
  const prelude = [
    `VC_TOOL=; for vc_p in ${programs.join(' ')}; do vc_w=$(command -v "$vc_p" 2>/dev/null) && case $vc_w in /*) VC_TOOL=$vc_w; break ;; esac; done`,
    RUNNER_PRELUDE,
    'export VC_TOOL',
  ].join('\n');
  const parts: Array<[string, string]> = [['tool', 'printf "%s" "$VC_TOOL"']];
  for (const s of steps) {
    const secs = Math.max(1, Math.round(s.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT));
    // The step runs in its own sh so that timeout(1) can stop all of it.
    const quoted = `'${s.run.replace(/'/g, `'\\''`)}'`;
    parts.push([s.name, `if [ -z "$VC_TOOL" ]; then false; else vc_in ${secs} sh -c ${quoted} 2>"$VC_TMP/${s.name}.err" </dev/null; fi`]);
    parts.push([`${s.name}.err`, `tail -c ${STDERR_BYTES} "$VC_TMP/${s.name}.err" 2>/dev/null`]);
  }
  return sectionScript(parts, prelude);
}

/**
 * Runs the steps of a tool found under one of `programs` on the ctx's machine. `absent` says why
 * there is nothing to run (the tool is not on the PATH of the collectors' shell).
 */
export async function runTool(ctx: CollectContext, programs: readonly string[], steps: readonly ToolStep[]): Promise<ToolRun> {
  const script = toolScript(programs, steps);
  const r = await ctx.run(`run ${programs[0]}`, script.script);
  const sections = script.parse(r.stdout);
  const path = sectionText(sections, 'tool').trim();
  if (!path) return { absent: `${programs[0]} is not installed here (not found on PATH${programs.length > 1 ? ` as ${programs.join(' or ')}` : ''})` };
  const result: Record<string, StepResult> = {};
  for (const s of steps) {
    const out: Section | undefined = sections.get(s.name);
    result[s.name] = { stdout: out?.text ?? '', stderr: sections.get(`${s.name}.err`)?.text ?? '', rc: out?.rc ?? null };
  }
  return { path, steps: result };
}

/** A short, printable excerpt of untrusted text for an error message. */
export function excerpt(text: string, max = 120): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(one.length > max ? `${one.slice(0, max)}...` : one);
}

/** Parses a step's output as one JSON document; throws naming `what` and what it printed instead. */
export function parseJson(text: string, what: string): unknown {
  const t = text.trim();
  if (!t) throw new Error(`${what} printed nothing`);
  try {
    return JSON.parse(t);
  } catch {
    throw new Error(`${what} did not print JSON: ${excerpt(t)}`);
  }
}

/** The last line of `text` that parses as a JSON object (tools put an error object after log lines), or null. */
export function lastJsonObject(text: string): Record<string, unknown> | null {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      const v = JSON.parse(l);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch { /* not this one */ }
  }
  return null;
}

/** Validates upstream JSON with a zod schema; throws naming `what` and the first fields that are wrong. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`${what} printed JSON of an unexpected shape: ${describeIssues(r.error.issues).split('\n').slice(0, 3).join('; ')}`);
}

/** An RFC 3339 / ISO 8601 time (any offset, any fraction) as ISO UTC with milliseconds, or null. */
export function isoTime(v: unknown): string | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v)) return null;
  // A date-time without an offset is UTC (SQLite's datetime('now') writes those).
  const s = /([zZ]|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v.replace(' ', 'T')}Z`;
  // JavaScript's parser takes at most milliseconds: cut longer fractions (chrono prints nanoseconds).
  const t = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

// ---------------------------------------------------------------------------------------------
// The same in each of the directories a snippet finds on the machine (a tool run per repository):
// one script finds them and runs every step in each, so a machine costs one round trip. Within
// the `dirs` section each directory and step is framed by lines carrying a per-run marker.

export interface DirStep extends ToolStep {
  /** The program that runs this step, one of runToolInDirs' `tools`: "$VC_TOOL" in `run`. */
  tool: string;
}

export interface DirStepResult extends StepResult {
  /** Bytes the step printed on stdout. */
  bytes: number;
  /** false: its stdout was not sent (it would have passed the run's byte budget); stdout is ''. */
  kept: boolean;
}

export interface DirRun {
  dir: string;
  /** The steps run there (a step whose tool is missing is not). */
  steps: Record<string, DirStepResult>;
  /** Steps not started because the run's time budget would not have let them finish. */
  notRun: string[];
}

export interface DirsOptions {
  /** A sh snippet printing the directories, one absolute path a line. */
  find: string;
  findTimeoutSeconds: number;
  /** Directories run in: the first ones in sorted order; the others are only counted. */
  maxDirs: number;
  /** No step is started unless its timeout ends within this many seconds of the script's start. */
  budgetSeconds: number;
  /** Bytes of all steps' stdout together; a step whose output would pass it is not sent. */
  maxBytes: number;
}

export type DirsRun =
  | { absent: string }
  | {
    /** The path of each tool found (a missing one is left out). */
    tools: Record<string, string>;
    /** Directories the snippet found (more than were run in when over maxDirs). */
    found: number;
    /** The snippet's own exit status (124: stopped at its timeout) and stderr. */
    find: StepResult;
    dirs: DirRun[];
  };

/** stderr kept per step in a directory: tools put their error in the last line or two. */
const DIR_STDERR_BYTES = 8192;

/** The script of runToolInDirs (exported for tests). */
export function toolDirsScript(tools: readonly string[], steps: readonly DirStep[], opts: DirsOptions) {
  for (const p of tools) if (!PROGRAM.test(p)) throw new Error(`not a plain program name: ${JSON.stringify(p)}`);
  for (const s of steps) {
    if (!WORD.test(s.name)) throw new Error(`not a step name: ${JSON.stringify(s.name)}`);
    if (!tools.includes(s.tool)) throw new Error(`step ${s.name} runs ${JSON.stringify(s.tool)}, which is not one of the tools`);
  }
  const mark = `@@vcd-${randomBytes(8).toString('hex')}@@`;
  const v = (tool: string) => `VC_T${tools.indexOf(tool)}`;
  const anyTool = tools.map((t) => `$${v(t)}`).join('');
  const prelude = [
    ...tools.map((t) => `${v(t)}=$(command -v ${t} 2>/dev/null); case $${v(t)} in /*) ;; *) ${v(t)}= ;; esac`),
    RUNNER_PRELUDE,
    `M='${mark}'`,
    'VC_START=$(date +%s 2>/dev/null); case $VC_START in \'\'|*[!0-9]*) VC_START= ;; esac',
    'VC_BYTES=0',
    // vc_step NAME SECONDS TOOL SNIPPET: runs in "$vc_d" unless it could not end within the budget.
    `vc_step() {
  if [ -n "$VC_START" ] && [ $(( $(date +%s) - VC_START + $2 )) -gt ${Math.max(1, Math.floor(opts.budgetSeconds))} ]; then printf '\\n%s skip %s\\n' "$M" "$1"; return 0; fi
  ( cd "$vc_d" && VC_TOOL=$3 && export VC_TOOL && vc_in "$2" sh -c "$4" ) >"$VC_TMP/o" 2>"$VC_TMP/e" </dev/null
  vc_rc=$?
  vc_n=$(wc -c <"$VC_TMP/o" | tr -d ' ')
  if [ $((VC_BYTES + vc_n)) -le ${Math.floor(opts.maxBytes)} ]; then vc_k=1; VC_BYTES=$((VC_BYTES + vc_n)); else vc_k=0; fi
  printf '\\n%s out %s %s %s %s\\n' "$M" "$1" "$vc_rc" "$vc_n" "$vc_k"
  [ "$vc_k" = 0 ] || cat "$VC_TMP/o"
  printf '\\n%s err %s\\n' "$M" "$1"
  tail -c ${DIR_STDERR_BYTES} "$VC_TMP/e"
}`,
  ].join('\n');
  const perDir = steps.map((s) => {
    const secs = Math.max(1, Math.round(s.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT));
    return `  [ -z "$${v(s.tool)}" ] || vc_step ${s.name} ${secs} "$${v(s.tool)}" ${shQuote(s.run)}`;
  });
  const built = sectionScript([
    ['tools', tools.map((t) => `printf '%s %s\\n' ${t} "$${v(t)}"`).join('\n')],
    ['find', `[ -n "${anyTool}" ] || exit 0
vc_in ${Math.max(1, Math.round(opts.findTimeoutSeconds))} sh -c ${shQuote(opts.find)} >"$VC_TMP/found" 2>"$VC_TMP/find.err" </dev/null
vc_frc=$?
grep '^/' "$VC_TMP/found" | sort -u >"$VC_TMP/all"
head -n ${Math.max(1, Math.floor(opts.maxDirs))} "$VC_TMP/all" >"$VC_TMP/dirs"
printf '%s %s\\n' "$(wc -l <"$VC_TMP/all" | tr -d ' ')" "$vc_frc"`],
    ['find.err', `tail -c ${DIR_STDERR_BYTES} "$VC_TMP/find.err" 2>/dev/null`],
    ['dirs', `[ -f "$VC_TMP/dirs" ] || exit 0
while IFS= read -r vc_d; do
  printf '\\n%s dir\\n%s' "$M" "$vc_d"
${perDir.join('\n')}
done <"$VC_TMP/dirs"`],
  ], prelude);
  return { script: built.script, mark, parse: built.parse };
}

/** Splits the `dirs` section into one run per directory, by the per-run marker. */
export function parseDirRuns(text: string, mark: string): DirRun[] {
  const marker = new RegExp(`\\n${mark.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (dir|out|err|skip)(?: ([a-z][a-z0-9_]*))?(?: (\\d+) (\\d+) ([01]))?\\n`, 'g');
  const runs: DirRun[] = [];
  let current: DirRun | undefined;
  let into: ((chunk: string) => void) | null = null;
  let from = 0;
  const body = `\n${text}`;
  for (const m of body.matchAll(marker)) {
    into?.(body.slice(from, m.index));
    from = m.index + m[0].length;
    into = null;
    const [, what, name, rc, bytes, kept] = m;
    if (what === 'dir') {
      const run: DirRun = { dir: '', steps: {}, notRun: [] };
      runs.push(run);
      current = run;
      into = (chunk) => { run.dir = chunk; };
    } else if (current && name && what === 'skip') {
      current.notRun.push(name);
    } else if (current && name && what === 'out' && rc !== undefined) {
      const step: DirStepResult = { stdout: '', stderr: '', rc: Number(rc), bytes: Number(bytes), kept: kept === '1' };
      current.steps[name] = step;
      into = (chunk) => { step.stdout = chunk; };
    } else if (current && name && what === 'err' && current.steps[name]) {
      const step = current.steps[name];
      into = (chunk) => { step.stderr = chunk; };
    }
  }
  into?.(body.slice(from));
  return runs;
}

/**
 * Runs `steps` in every directory the `find` snippet prints on the ctx's machine (at most
 * maxDirs), each with its own tool; a step whose tool is missing there is left out. `absent` when
 * none of the tools is installed.
 */
export async function runToolInDirs(ctx: CollectContext, tools: readonly string[], steps: readonly DirStep[], opts: DirsOptions): Promise<DirsRun> {
  const built = toolDirsScript(tools, steps, opts);
  const r = await ctx.run(`run ${tools.join(' and ')}`, built.script);
  const sections = built.parse(r.stdout);
  const found: Record<string, string> = {};
  for (const line of sectionText(sections, 'tools').split('\n')) {
    const [tool, path] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (tools.includes(tool) && path.startsWith('/')) found[tool] = path;
  }
  if (Object.keys(found).length === 0) {
    return { absent: `${tools.join(' and ')} ${tools.length > 1 ? 'are' : 'is'} not installed here (not found on PATH)` };
  }
  const counts = /^(\d+) (\d+)/.exec(sectionText(sections, 'find'));
  const dirs = sections.get('dirs');
  if (!counts || !dirs || dirs.rc === null) throw new Error(`the script running ${tools.join(' and ')} stopped before it ended`);
  return {
    tools: found,
    found: Number(counts[1]),
    find: { stdout: '', stderr: sections.get('find.err')?.text ?? '', rc: Number(counts[2]) },
    dirs: parseDirRuns(dirs.text, built.mark),
  };
}

/**
 * An epoch-milliseconds time (cass, ntm and SQLite stores write them) as ISO UTC, or null when it
 * is not a whole number of milliseconds between 1970 and 9999.
 */
export function isoFromEpochMs(v: unknown): string | null {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 253402300799999) return null;
  return new Date(v).toISOString();
}

/**
 * The JSON objects in `text`, in order: one per line (JSONL) or pretty-printed over several lines,
 * or both mixed (some tools print a pretty document, then JSONL, or log lines among them). What is
 * not an object starting a line is skipped, and counted in `skipped` (lines of text, or an object
 * that does not parse or never closes: only its first line is skipped, the next may start one).
 */
export function jsonObjects(text: string): { objects: Array<Record<string, unknown>>; skipped: number } {
  const objects: Array<Record<string, unknown>> = [];
  let skipped = 0;
  let i = 0;
  while (i < text.length) {
    const eol = text.indexOf('\n', i);
    const lineEnd = eol < 0 ? text.length : eol;
    const line = text.slice(i, lineEnd).trim();
    if (!line.startsWith('{')) {
      if (line) skipped++;
      i = lineEnd + 1;
      continue;
    }
    // Find the object's end: braces counted outside strings.
    const start = text.indexOf('{', i);
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let j = start; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) { end = j; break; }
    }
    if (end < 0) {
      // Never closed: a cut-off object, or a line that only starts like one.
      skipped++;
      i = lineEnd + 1;
      continue;
    }
    try {
      const v = JSON.parse(text.slice(start, end + 1));
      if (v && typeof v === 'object' && !Array.isArray(v)) objects.push(v as Record<string, unknown>);
      else skipped++;
      i = end + 1;
    } catch {
      // Not JSON after all: skip this line only, the next may start an object.
      skipped++;
      i = lineEnd + 1;
    }
  }
  return { objects, skipped };
}

/**
 * A Go `time.Time` as ISO UTC, or null: Go encodes an unset time as "0001-01-01T00:00:00Z" (its
 * zero value; `omitempty` does not drop it), which means unknown, not year 1.
 */
export function goTime(v: unknown): string | null {
  const t = isoTime(v);
  return t === null || t < '1970' ? null : t;
}

/**
 * Why a step that should have exited 0 did not (null when it did): stopped at its timeout, or its
 * exit status with what it printed and the line of stderr that says why (an `Error: ...` line,
 * where a CLI prints one before its usage text; else the last line).
 */
export function stepError(what: string, step: StepResult): Error | null {
  if (step.rc === 124) return new Error(`${what} did not answer in time and was stopped`);
  if (step.rc === 0) return null;
  const lines = step.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.find((l) => /^(error|fatal)\b/i.test(l)) ?? lines.at(-1);
  return new Error(`${what} exited ${step.rc ?? '(killed)'}${step.stdout.trim() ? `: ${excerpt(step.stdout)}` : ''}${why ? `; stderr: ${excerpt(why)}` : ''}`);
}

/**
 * `text` with every integer literal too big for a JavaScript number (beyond 2^53) turned into a
 * JSON string of its digits, so JSON.parse keeps it exact: Rust tools print u64 ids (rch's build
 * ids are epoch seconds << 24) that a double would round. Strings and fractions are left alone.
 */
export function quoteBigIntegers(text: string): string {
  let out = '';
  let last = 0;
  const n = text.length;
  const digit = (i: number) => i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57;
  for (let i = 0; i < n;) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < n && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '-' || digit(i)) {
      const start = i;
      if (c === '-') i++;
      while (digit(i)) i++;
      const intEnd = i;
      if (text[i] === '.') for (i++; digit(i);) i++;
      if (text[i] === 'e' || text[i] === 'E') {
        i++;
        if (text[i] === '+' || text[i] === '-') i++;
        while (digit(i)) i++;
      }
      const literal = text.slice(start, intEnd);
      if (i === intEnd && intEnd - start >= 16 && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(last, start)}"${literal}"`;
        last = intEnd;
      }
    } else {
      i++;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}
