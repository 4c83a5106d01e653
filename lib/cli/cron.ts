// vc cron print|install|uninstall [--systemd] [--yes] [--json]; vc cron run (what the schedule runs)
import { defineCommand } from 'citty';
import { installCrontab, installSystemd, printSchedule, scheduleSpec, uninstallCrontab, uninstallSystemd, type CronResult } from '../cron.ts';
import { envelope } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, open, print, printJson } from './common.ts';
import { COLLECTOR_NAMES } from '../catalog.ts';
import { errorMessage } from '../errors.ts';
import { log } from '../log.ts';

const systemdArg = { systemd: { type: 'boolean', description: 'a systemd user timer + service instead of a crontab block' } } as const;
const applyArgs = {
  ...systemdArg,
  yes: { type: 'boolean', description: 'make the change (without it, only show what would change)' },
  json: { type: 'boolean', description: 'print the plan or outcome as a JSON envelope' },
  ...configArg,
} as const;

function report(result: CronResult, json: boolean): void {
  if (json) printJson(envelope('cron', result, {}, result.error ? [result.error] : []));
  else print(result.summary);
  if (!result.ok) process.exitCode = 1;
}

const printCmd = defineCommand({
  meta: { name: 'print', description: 'Print the crontab block (or systemd units) that install would write' },
  args: { ...systemdArg, ...configArg },
  run(ctx) {
    checkArgs(ctx);
    print(printSchedule(scheduleSpec(loadCliConfig(ctx.args)), { systemd: Boolean(ctx.args.systemd) }));
  },
});

const installCmd = defineCommand({
  meta: { name: 'install', description: 'Schedule `vc cron run` every minute (shows the change; --yes applies it)' },
  args: applyArgs,
  async run(ctx) {
    checkArgs(ctx);
    const spec = scheduleSpec(loadCliConfig(ctx.args));
    const apply = Boolean(ctx.args.yes);
    report(ctx.args.systemd ? await installSystemd(spec, { apply }) : await installCrontab(spec, { apply }), Boolean(ctx.args.json));
  },
});

const uninstallCmd = defineCommand({
  meta: { name: 'uninstall', description: 'Remove what install wrote, and nothing else (shows the change; --yes applies it)' },
  args: applyArgs,
  async run(ctx) {
    checkArgs(ctx);
    const apply = Boolean(ctx.args.yes);
    report(ctx.args.systemd ? await uninstallSystemd({ apply }) : await uninstallCrontab({ apply }), Boolean(ctx.args.json));
  },
});

const runCmd = defineCommand({
  meta: { name: 'run', description: 'What the schedule runs every minute: the collectors that are due, then the alert rules, a fleet snapshot and compaction (then retention) when those are due' },
  args: { ...configArg },
  async run(ctx) {
    checkArgs(ctx);
    const loaded = loadCliConfig(ctx.args);
    const { collectPass } = await import('./collect.ts');
    await collectPass(loaded, { machines: loaded.config.machines, sources: [...COLLECTOR_NAMES], due: true, json: false });
    // The alert rules and the snapshot read the same health factors: when both are due, one
    // session at one moment computes them once for both.
    const now = new Date();
    const { HEALTH_HISTORY, healthSession } = await import('../report.ts');
    const health = healthSession(() => open(loaded, { now, history: HEALTH_HISTORY }));
    // Each step runs whatever the one before did: a failed collector must not stop the alerts.
    const steps: Array<[string, () => Promise<void>]> = [
      ['alerts', async () => {
        const { evaluateAlerts, evaluationDue } = await import('../alerts.ts');
        if (!evaluationDue(loaded, now)) return;
        const { evaluationSummary } = await import('./alerts.ts');
        print(evaluationSummary(await evaluateAlerts(loaded, open, now, health)));
      }],
      ['snapshot', async () => {
        const { snapshotDue, takeSnapshot } = await import('../snapshot.ts');
        if (snapshotDue(loaded, now)) print(`snapshot of ${(await takeSnapshot(loaded, open, now, health)).length} machines`);
      }],
      // Last: compaction and retention take longest and nothing above waits on them.
      ['compact', async () => {
        const { scheduledCompaction } = await import('./compact.ts');
        const line = await scheduledCompaction(loaded, now);
        if (line) print(line);
      }],
    ];
    try {
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (err) {
          await log.error(`${what}: ${errorMessage(err)}`);
          process.exitCode = 1;
        }
      }
    } finally {
      await health.close();
    }
  },
});

export default defineCommand({
  meta: { name: 'cron', description: 'Schedule collection: a crontab block or a systemd user timer' },
  subCommands: { print: printCmd, install: installCmd, uninstall: uninstallCmd, run: runCmd },
});
