// vc snapshot [--due] [--json]: append a compact picture of the fleet now to state/snapshots.jsonl.
import { defineCommand } from 'citty';
import { snapshotDue, takeSnapshot } from '../snapshot.ts';
import { checkArgs, configArg, loadCliConfig, open, print, printJson } from './common.ts';

export default defineCommand({
  meta: { name: 'snapshot', description: 'Append a compact fleet snapshot (health, factors not ok, alert conditions per machine) for vc diff' },
  args: {
    due: { type: 'boolean', description: 'only if the last one is [snapshots] every_seconds old (for cron)' },
    json: { type: 'boolean', description: 'print the snapshot lines as JSON' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    if (ctx.args.due && !snapshotDue(loaded)) return;
    const lines = await takeSnapshot(loaded, open);
    if (ctx.args.json) printJson(lines);
    else print(`snapshot of ${lines.length} machines at ${String(lines[0]?.ts ?? new Date().toISOString())}`);
  },
});
