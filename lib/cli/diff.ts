// vc diff [--from T1] [--to T2] [--machine ID] [--md|--json]: what changed between two fleet
// snapshots (the diff report: vc report diff --since T1 --until T2).
import { defineCommand } from 'citty';
import { checkArgs, configArg, formatArgs } from './common.ts';
import { runReport } from './report.ts';

export default defineCommand({
  meta: { name: 'diff', description: 'What changed between the fleet snapshots nearest before two times (default: the last day)' },
  args: {
    from: { type: 'string', description: 'the earlier time (YYYY-MM-DD or ISO 8601; default a day ago)', valueHint: 'T1' },
    to: { type: 'string', description: 'the later time (default now)', valueHint: 'T2' },
    machine: { type: 'string', description: 'only this machine', valueHint: 'ID' },
    ...formatArgs,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const { from, to, ...rest } = ctx.args;
    await runReport('diff', { ...rest, since: from, until: to });
  },
});
