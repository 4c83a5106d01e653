// vc watch [--format jsonl] [--interval N] [--changes-only] [--count K]: alert, prediction,
// opportunity and health_change events as JSON lines, every N seconds, for a guardian agent.
import { defineCommand } from 'citty';
import { UsageError } from '../errors.ts';
import { readWatchItems, watchEvents, type WatchState } from '../watch.ts';
import { HEALTH_HISTORY } from '../report.ts';
import { checkArgs, configArg, loadCliConfig, open } from './common.ts';

export default defineCommand({
  meta: { name: 'watch', description: 'Stream alert, prediction, opportunity and health_change events as JSON lines, every interval' },
  args: {
    format: { type: 'string', description: 'jsonl (the only format: one JSON object a line)', valueHint: 'jsonl' },
    interval: { type: 'string', description: 'seconds between reads (default 60)', valueHint: 'N' },
    'changes-only': { type: 'boolean', description: 'only what changed since the last read (the first read: everything, as new)' },
    count: { type: 'string', description: 'stop after this many reads (default: run until stopped)', valueHint: 'K' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    if (ctx.args.format !== undefined && ctx.args.format !== 'jsonl') throw new UsageError(`--format "${String(ctx.args.format)}": vc watch prints jsonl`);
    const interval = positive(ctx.args.interval, 'interval', 60);
    const count = ctx.args.count === undefined ? Infinity : positive(ctx.args.count, 'count', 1);
    const changesOnly = Boolean(ctx.args['changes-only']);
    const loaded = loadCliConfig(ctx.args);
    let stopped = false;
    let wake: () => void = () => {};
    const stop = () => { stopped = true; wake(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A reader that went away (| head) ends the watch quietly.
    process.stdout.on('error', stop);
    let state: WatchState | null = null;
    for (let read = 0; read < count && !stopped; read++) {
      const started = Date.now();
      const session = await open(loaded, { history: HEALTH_HISTORY });
      let items;
      try {
        items = await readWatchItems(session);
      } finally {
        session.close();
      }
      const out = watchEvents(state, items, new Date().toISOString(), changesOnly);
      state = out.state;
      if (out.events.length) process.stdout.write(out.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      if (read + 1 >= count) break;
      const wait = Math.max(0, interval * 1000 - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        wake = () => { clearTimeout(t); resolve(); };
      });
    }
  },
});

function positive(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number from 1, not "${String(v)}"`);
  return n;
}
