// vc cron print|install|uninstall [--systemd] [--yes] [--json]
import { defineCommand } from 'citty';
import { installCrontab, installSystemd, printSchedule, scheduleSpec, uninstallCrontab, uninstallSystemd, type CronResult } from '../cron.ts';
import { envelope } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, print, printJson } from './common.ts';

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
  meta: { name: 'install', description: 'Schedule `vc collect --due` every minute (shows the change; --yes applies it)' },
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

export default defineCommand({
  meta: { name: 'cron', description: 'Schedule collection: a crontab block or a systemd user timer' },
  subCommands: { print: printCmd, install: installCmd, uninstall: uninstallCmd },
});
