// Running an upstream tool (caut, ntm, rch, ...) on a machine for a collector: one sh script finds
// the tool (command -v) and runs its steps, each step's stdout, stderr and exit status kept apart,
// each bounded by its own timeout, so one hung step still leaves the others' output. A tool that
// is not installed makes the run `absent`, not an error. What the tool prints is untrusted: the
// parsers below turn it into clear errors naming the tool, the step and what was wrong.
import type { z } from 'zod';
import type { CollectContext } from '../collector.ts';
import { describeIssues } from '../config.ts';
import { sectionScript, sectionText, type Section } from '../sections.ts';

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

/** The script for a tool's steps (exported for tests). Programs are plain words, checked here. */
export function toolScript(programs: readonly string[], steps: readonly ToolStep[]) {
  for (const p of programs) if (!PROGRAM.test(p)) throw new Error(`not a plain program name: ${JSON.stringify(p)}`);
  for (const s of steps) if (!WORD.test(s.name)) throw new Error(`not a step name: ${JSON.stringify(s.name)}`);
  // The first of the programs found is the tool (a tool may be installed under more than one name).
  const prelude = [
    `VC_TOOL=; for vc_p in ${programs.join(' ')}; do vc_w=$(command -v "$vc_p" 2>/dev/null) && case $vc_w in /*) VC_TOOL=$vc_w; break ;; esac; done`,
    'VC_TMP=$(mktemp -d 2>/dev/null) || { VC_TMP=/tmp/vc-tool.$$; mkdir -m 700 "$VC_TMP" || exit 1; }',
    `trap 'rm -rf "$VC_TMP"' EXIT`,
    // timeout(1) where there is one: a step past its time is killed, the others still run.
    'vc_in() { vc_s=$1; shift; if command -v timeout >/dev/null 2>&1; then timeout "$vc_s" "$@"; else "$@"; fi; }',
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
