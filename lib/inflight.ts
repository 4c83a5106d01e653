// Runs in flight: `vc collect` notes each run it starts (state/inflight/<run id>.json, with its own
// pid and start time) and each run removes its note once it has recorded itself. A note whose vc
// process is gone (killed, crashed, the machine restarted) is a run nobody recorded: the next pass
// records it as killed, so no run goes missing from collector_runs.
import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from './paths.ts';

export interface InflightRun {
  run_id: string;
  source: string;
  machine_id: string;
  started_at: string;
  pid: number;
  /** The process's start time (/proc/<pid>/stat, clock ticks since boot), so a reused pid is not taken for it. */
  pid_start: string | null;
}

const dirOf = (dataDir: string) => path.join(stateDir(dataDir), 'inflight');
const fileOf = (dataDir: string, runId: string) => path.join(dirOf(dataDir), `${runId}.json`);

/** A process's start time, or null where /proc cannot tell. */
function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function alive(run: InflightRun): boolean {
  if (!pidAlive(run.pid)) return false;
  const start = processStart(run.pid);
  return run.pid_start === null || start === null || start === run.pid_start;
}

/** Notes runs this process starts now. */
export function markInflight(dataDir: string, runs: ReadonlyArray<Omit<InflightRun, 'pid' | 'pid_start'>>): void {
  if (!runs.length) return;
  fs.mkdirSync(dirOf(dataDir), { recursive: true });
  const own = { pid: process.pid, pid_start: processStart(process.pid) };
  for (const run of runs) {
    const file = fileOf(dataDir, run.run_id);
    // Named after its writer: one killed before the rename is known dead whatever the file holds.
    fs.writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify({ ...run, ...own }));
    fs.renameSync(`${file}.${process.pid}.tmp`, file);
  }
}

/** A run has recorded itself (or been recorded): its note goes. */
export function clearInflight(dataDir: string, runId: string): void {
  fs.rmSync(fileOf(dataDir, runId), { force: true });
}

/** A note still being written is this old at most; older, its writer died writing it. */
const WRITING_MS = 60_000;

/**
 * Noted runs whose vc process is gone. A note that cannot be read is dropped, and so is one its
 * process never finished writing (it is renamed into place before the run starts, so that run
 * never began).
 */
export function orphanedRuns(dataDir: string): InflightRun[] {
  let all: string[];
  try {
    all = fs.readdirSync(dirOf(dataDir));
  } catch {
    return [];
  }
  for (const name of all.filter((n) => n.endsWith('.tmp'))) {
    const file = path.join(dirOf(dataDir), name);
    const writer = /\.json\.(\d+)\.tmp$/.exec(name)?.[1];
    try {
      // Its writer is gone (named in it), or it is older than any write takes.
      if (writer ? !pidAlive(Number(writer)) : Date.now() - fs.statSync(file).mtimeMs > WRITING_MS) fs.rmSync(file, { force: true });
    } catch { /* renamed or removed meanwhile */ }
  }
  const names = all.filter((n) => n.endsWith('.json'));
  const orphans: InflightRun[] = [];
  for (const name of names) {
    const file = path.join(dirOf(dataDir), name);
    let run: InflightRun;
    try {
      run = JSON.parse(fs.readFileSync(file, 'utf8')) as InflightRun;
      if (typeof run.run_id !== 'string' || typeof run.source !== 'string' || typeof run.machine_id !== 'string' || !Number.isInteger(run.pid)) throw new Error('malformed');
    } catch {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (!alive(run)) orphans.push(run);
  }
  return orphans;
}
