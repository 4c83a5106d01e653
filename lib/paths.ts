// Where vc keeps things: the XDG base directories and the data dir layout of design.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root, for sql/, views/, reports/, cron/ and collect/: the nearest directory above
 * this module with package.json and sql/ (lib/ here; .build/cli-<id>/ in the bundle bin/vc.mjs runs).
 */
export const repoRoot = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'sql'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`vc: no checkout (package.json and sql/) above ${from}`);
  }
}

function xdg(envName: string, fallback: string): string {
  const value = process.env[envName];
  // The XDG spec says relative values are invalid and must be ignored.
  return value && path.isAbsolute(value) ? value : path.join(os.homedir(), fallback);
}

export const xdgConfigHome = () => xdg('XDG_CONFIG_HOME', '.config');
export const xdgDataHome = () => xdg('XDG_DATA_HOME', '.local/share');

export const defaultConfigPath = () => path.join(xdgConfigHome(), 'vc', 'vc.toml');
export const defaultDataDir = () => path.join(xdgDataHome(), 'vc');

/** Expands a leading `~` to the home directory; other paths resolve against cwd. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.resolve(p);
}

/** The UTC calendar date of a timestamp: the partition a line is appended to. */
export const utcDate = (iso: string) => iso.slice(0, 10);

export const rawDir = (dataDir: string, source: string) => path.join(dataDir, 'raw', source);

export const rawFile = (dataDir: string, source: string, machineId: string, date: string) =>
  path.join(rawDir(dataDir, source), `machine=${machineId}`, `date=${date}.ndjson`);

export const cursorFile = (dataDir: string, machineId: string, source: string) =>
  path.join(dataDir, 'state', 'cursors', machineId, `${source}.json`);

export const stateDir = (dataDir: string) => path.join(dataDir, 'state');

/** Every alert transition (open, update, resolve, reopen, ack), appended: the alerts' whole state. */
export const alertsFile = (dataDir: string) => path.join(dataDir, 'state', 'alerts.jsonl');

/** Fleet snapshots (vc snapshot): one line per machine per snapshot, appended. */
export const snapshotsFile = (dataDir: string) => path.join(dataDir, 'state', 'snapshots.jsonl');

/** Incidents (vc incident): every open, note and close, appended. */
export const incidentsFile = (dataDir: string) => path.join(dataDir, 'state', 'incidents.jsonl');

/** Every webhook delivery attempt of an alert transition, appended. */
export const alertDeliveriesFile = (dataDir: string) => path.join(dataDir, 'state', 'alert-deliveries.jsonl');

/** Written by `vc demo`: the data dir holds a synthetic fleet, and which machines are in it. */
export const demoMarkerFile = (dataDir: string) => path.join(dataDir, 'state', 'demo.json');

/**
 * `<name>-<uid>` under $XDG_RUNTIME_DIR (else the temp dir), made if missing: private to this user.
 * Refuses one that is not (another user could have made it first), naming `purpose`.
 */
export function privateRuntimeDir(name: string, purpose: string): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  const base = runtime && path.isAbsolute(runtime) ? runtime : os.tmpdir();
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(base, `${name}-${uid}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of this user (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): refusing to ${purpose} there`);
  }
  return dir;
}
