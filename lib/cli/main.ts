// vc: the command line. Thin: parses with citty, calls lib/, renders. Subcommands load lazily,
// so `vc report` never pays for collector code and `vc collect` never loads DuckDB.
import type { CommandDef } from 'citty';
import { errorMessage, UsageError } from '../errors.ts';
import { log } from '../log.ts';

// No colour unless on a terminal: citty decides when it loads, so this comes first.
if (!process.stdout.isTTY && !process.env.FORCE_COLOR) process.env.NO_COLOR = '1';
const { defineCommand, runCommand, showUsage } = await import('citty');

const lazy = (load: () => Promise<{ default: CommandDef<any> }>) => () => load().then((m) => m.default);

const main = defineCommand({
  meta: { name: 'vc', version: '0.1.0', description: 'vibe cockpit: collect, remember and triage a fleet of AI coding agents' },
  subCommands: {
    collect: lazy(() => import('./collect.ts')),
    report: lazy(() => import('./report.ts')),
    query: lazy(() => import('./query.ts')),
    views: lazy(() => import('./views.ts')),
    cron: lazy(() => import('./cron.ts')),
    machines: lazy(() => import('./machines.ts')),
    demo: lazy(() => import('./demo.ts')),
    pricing: lazy(() => import('./pricing.ts')),
    alerts: lazy(() => import('./alerts.ts')),
    'robot-docs': lazy(() => import('./robot-docs.ts')),
    watch: lazy(() => import('./watch.ts')),
    snapshot: lazy(() => import('./snapshot.ts')),
    diff: lazy(() => import('./diff.ts')),
    incident: lazy(() => import('./incident.ts')),
    compact: lazy(() => import('./compact.ts')),
    retention: lazy(() => import('./retention.ts')),
  },
});

/** The command a help request is about: follow subcommand names through the arguments. */
async function helpTarget(rawArgs: string[]): Promise<[CommandDef<any>, CommandDef<any> | undefined]> {
  let cmd: CommandDef<any> = main;
  let parent: CommandDef<any> | undefined;
  for (const arg of rawArgs) {
    if (arg.startsWith('-')) continue;
    const subs = typeof cmd.subCommands === 'function' ? await cmd.subCommands() : await cmd.subCommands;
    const next = subs?.[arg];
    if (!next) break;
    parent = cmd;
    cmd = typeof next === 'function' ? await next() : await next;
  }
  return [cmd, parent];
}

const rawArgs = process.argv.slice(2);
// npm run bench reads a command's peak memory from here.
if (process.env.VC_PROFILE) process.on('exit', () => process.stderr.write(`peak rss ${process.resourceUsage().maxRSS} KiB\n`));
try {
  if (rawArgs.length === 0 || rawArgs.includes('--help') || rawArgs.includes('-h')) {
    await showUsage(...(await helpTarget(rawArgs)));
  } else if (rawArgs.length === 1 && (rawArgs[0] === '--version' || rawArgs[0] === '-v')) {
    process.stdout.write('0.1.0\n');
  } else {
    await runCommand(main, { rawArgs });
  }
} catch (err) {
  // citty's own parse errors (unknown command, missing argument) are usage errors too.
  const parseError = (err as Error)?.name === 'CLIError';
  const usage = parseError || err instanceof UsageError;
  await log.error(errorMessage(err).replace(/\u001b\[[0-9;]*m/g, ''));
  if (parseError) process.stderr.write('Run `vc --help` for usage.\n');
  process.exitCode = usage ? 2 : 1;
}
