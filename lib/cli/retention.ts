// vc retention show|set|apply: opt-in deletion of old raw NDJSON and compacted days (lib/retention.ts).
import { defineCommand } from 'citty';
import { UsageError } from '../errors.ts';
import { envelope, mdTable } from '../render.ts';
import { checkArgs, configArg, formatArgs, loadCliConfig, outputFormat, print, printJson } from './common.ts';
import type { Plan } from '../retention.ts';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** A day count from the command line: a whole number of days, or `keep` (no limit). */
function daysArg(flag: string, value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  const v = String(value);
  if (v === 'keep' || v === 'forever') return null;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 36_500) throw new UsageError(`${flag} "${v}" is not a number of days (1-36500) or keep`);
  return Number(v);
}

const showCmd = defineCommand({
  meta: { name: 'show', description: 'The retention policy per source (none: nothing is ever deleted)' },
  args: { ...formatArgs, ...configArg },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const { policies } = await import('../retention.ts');
    const rows = policies(loaded.dataDir);
    if (outputFormat(ctx.args) === 'json') {
      printJson(envelope('retention', { policies: rows }, {}, []));
      return;
    }
    const shown = rows.map((r) => ({ ...r, raw_days: r.raw_days ?? 'keep', compacted_days: r.compacted_days ?? 'keep' }));
    print(`# vc retention\n\nRollups are kept forever. Raw NDJSON goes only once compacted.\n\n${mdTable(shown, ['source', 'raw_days', 'compacted_days', 'from', 'set_at'])}`);
  },
});

const setCmd = defineCommand({
  meta: { name: 'set', description: 'Set how many days a source (or all) keeps raw NDJSON and compacted Parquet; keep = no limit' },
  args: {
    source: { type: 'positional', description: 'a source, or all', required: true },
    'raw-days': { type: 'string', description: 'days raw NDJSON is kept once compacted (or keep)', valueHint: 'N|keep' },
    'compacted-days': { type: 'string', description: 'days compacted data (and its raw files) is kept (or keep)', valueHint: 'N|keep' },
    ...formatArgs,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const raw = daysArg('--raw-days', ctx.args['raw-days']);
    const compacted = daysArg('--compacted-days', ctx.args['compacted-days']);
    if (raw === undefined && compacted === undefined) throw new UsageError('say what to keep: --raw-days N|keep and/or --compacted-days N|keep');
    const loaded = loadCliConfig(ctx.args);
    const { policies, setPolicy } = await import('../retention.ts');
    const source = String(ctx.args.source);
    // A flag not given keeps what the source has now.
    const current = source === 'all' ? undefined : policies(loaded.dataDir).find((p) => p.source === source);
    const line = await setPolicy(loaded.dataDir, source, raw === undefined ? current?.raw_days ?? null : raw,
      compacted === undefined ? current?.compacted_days ?? null : compacted);
    if (outputFormat(ctx.args) === 'json') printJson(envelope('retention_set', line, {}, []));
    else print(`${source}: raw NDJSON ${line.raw_days === null ? 'kept' : `${line.raw_days} days`}, compacted ${line.compacted_days === null ? 'kept' : `${line.compacted_days} days`}; \`vc retention apply --dry-run\` shows what that deletes`);
  },
});

function renderPlan(plan: Plan, dryRun: boolean): string {
  const bytes = plan.deletions.reduce((n, d) => n + d.bytes, 0);
  let out = `# vc retention apply${dryRun ? ' --dry-run' : ''}\n\n`;
  out += plan.deletions.length
    ? `${dryRun ? 'Would delete' : 'Deleted'} ${plan.deletions.length} files (${mib(bytes)}):\n\n${mdTable(plan.deletions, ['source', 'day', 'why', 'bytes', 'path'])}`
    : `Nothing ${dryRun ? 'would be' : 'was'} deleted.\n`;
  if (plan.kept.length) out += `\nKept although old enough (${plan.kept.length}):\n\n${mdTable(plan.kept, ['source', 'day', 'why', 'path'])}`;
  return out;
}

const applyCmd = defineCommand({
  meta: { name: 'apply', description: 'Delete what the policy says has expired (--dry-run lists exactly that, deleting nothing)' },
  args: {
    'dry-run': { type: 'boolean', description: 'list what would be deleted; delete nothing' },
    ...formatArgs,
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const { applyRetention, retentionPlan } = await import('../retention.ts');
    const dryRun = Boolean(ctx.args['dry-run']);
    const plan = dryRun ? retentionPlan(loaded.dataDir) : await applyRetention(loaded.dataDir);
    if (outputFormat(ctx.args) === 'json') printJson(envelope('retention_apply', { dry_run: dryRun, ...plan }, {}, []));
    else print(renderPlan(plan, dryRun));
  },
});

export default defineCommand({
  meta: { name: 'retention', description: 'Opt-in retention: how long raw NDJSON and compacted days are kept (rollups: forever)' },
  subCommands: { show: showCmd, set: setCmd, apply: applyCmd },
});
