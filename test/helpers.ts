// Shared test plumbing: temp dirs and running vc's own scripts as a user would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { repoRoot } from '../lib/paths.ts';

const tmpDirs: string[] = [];
process.on('exit', () => { for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true }); });

/** A fresh temp dir, removed when the test process exits. */
export function tmpDir(prefix = 'vc-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

export const tsxLoader = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs a TypeScript entry point of this repo (e.g. collect/sys.ts) the way bin/vc does. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Run {
  const r = spawnSync(process.execPath, ['--import', tsxLoader, path.join(repoRoot, script), ...args], {
    env: { ...process.env, ...env }, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs bin/vc with the given args and environment. */
export function vc(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Run {
  const r = spawnSync(path.join(repoRoot, 'bin', 'vc'), args, {
    env: { ...process.env, ...env }, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Reads every stored line of a source for a machine (all days), parsed. */
export function readRaw(dataDir: string, source: string, machineId: string): Array<Record<string, any>> {
  const dir = path.join(dataDir, 'raw', source, `machine=${machineId}`);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort().flatMap((f) =>
    fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

/**
 * The full shape of a stored item: stored lines drop null-valued keys (lib/envelope.ts storable)
 * and an absent key means null, so every key the schema declares (for a discriminated union, any
 * of its options) that the item lacks comes back as null. Keys the item has are kept as they are.
 */
export function withNulls(schema: z.ZodObject | { options: readonly z.ZodObject[] }, item: Record<string, any>): Record<string, any> {
  const shapes = 'options' in schema ? schema.options.map((o) => o.shape) : [schema.shape];
  const out: Record<string, any> = { ...Object.fromEntries(shapes.flatMap((s) => Object.keys(s)).map((k) => [k, null])), ...item };
  // Null keys are dropped at every depth (objects inside lists too): restore those as well.
  for (const shape of shapes) {
    for (const [k, field] of Object.entries(shape)) {
      const inner = unwrap(field as z.ZodType);
      if (inner instanceof z.ZodObject && out[k] && typeof out[k] === 'object') out[k] = withNulls(inner, out[k]);
      if (inner instanceof z.ZodArray && Array.isArray(out[k])) {
        const el = unwrap(inner.element as z.ZodType);
        if (el instanceof z.ZodObject) out[k] = out[k].map((e: Record<string, any>) => (e && typeof e === 'object' ? withNulls(el, e) : e));
      }
    }
  }
  return out;
}

/** The schema inside nullable/optional/default wrappers. */
function unwrap(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  while (cur instanceof z.ZodNullable || cur instanceof z.ZodOptional || cur instanceof z.ZodDefault) cur = cur.unwrap() as z.ZodType;
  return cur;
}

/** Writes an executable script (a fake upstream program) into dir and returns its path. */
export function writeExecutable(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

/** The file: URL of a module of this repo, for scripts written to a temp dir that import it. */
export function repoUrl(rel: string): string {
  return pathToFileURL(path.join(repoRoot, rel)).href;
}

export interface Started { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/**
 * Starts a TypeScript script (of this repo, or an absolute path such as a temp-dir `.mts`) as its
 * own process without waiting for it: `child` to signal or kill it, `done` for how it ended.
 */
export function startScript(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Started> } {
  const child = spawn(process.execPath, ['--import', tsxLoader, path.resolve(repoRoot, script), ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const done = new Promise<Started>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}
