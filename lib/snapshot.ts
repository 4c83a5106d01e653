// vc snapshot: a compact picture of the fleet now (views/v1/80_snapshots.sql says what is in it),
// appended to state/snapshots.jsonl, one line per machine. vc diff compares two of them, so the
// question "what changed since yesterday?" is answered even after raw data has been retired.
import fs from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from './config.ts';
import { HEALTH_HISTORY, healthSession, type HealthSession, type OpenSession } from './report.ts';
import { snapshotsFile, stateDir } from './paths.ts';
import { appendToFile } from './store.ts';


const takenMarker = (dataDir: string) => path.join(stateDir(dataDir), 'snapshot-taken');

/** Whether a snapshot is due: the last one is [snapshots] every_seconds old (less a minute of slack for cron). */
export function snapshotDue(loaded: LoadedConfig, now = new Date()): boolean {
  try {
    return now.getTime() - fs.statSync(takenMarker(loaded.dataDir)).mtimeMs >= (loaded.config.snapshots.every_seconds - 60) * 1000;
  } catch {
    return true;
  }
}

/** Takes a snapshot now and appends it; returns its lines. `health`: a session at `now` that other steps share. */
export async function takeSnapshot(loaded: LoadedConfig, open: OpenSession, now = new Date(), health?: HealthSession): Promise<Array<Record<string, unknown>>> {
  const own = health ?? healthSession(() => open(loaded, { now, history: HEALTH_HISTORY }));
  let rows;
  try {
    rows = await (await own.get()).query('SELECT * FROM v1.snapshot_now ORDER BY machine_id');
  } finally {
    if (!health) await own.close();
  }
  const ts = now.toISOString();
  const lines = rows.map((r) => ({ ts, ...r }));
  await appendToFile(snapshotsFile(loaded.dataDir), lines.map((l) => JSON.stringify(l)));
  fs.writeFileSync(takenMarker(loaded.dataDir), `${ts}\n`);
  return lines;
}
