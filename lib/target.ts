// Where a collector's commands run. Every collector sends one POSIX sh script to its target and
// parses what comes back, so the same collector works on this machine and, over ssh, on others.
import type { Config, Machine } from './config.ts';
import { execArgv, type ExecOptions, type ExecResult } from './exec.ts';
import { runOverSsh } from './ssh.ts';

export interface Target {
  machineId: string;
  /** Human-readable, for error messages: "local" or "ssh user@host:port". */
  describe: string;
  runScript(script: string, opts: Omit<ExecOptions, 'input'>): Promise<ExecResult>;
}

export function targetFor(machine: Machine, config: Config): Target {
  if (machine.ssh === 'local') {
    return {
      machineId: machine.id,
      describe: 'local',
      runScript: (script, opts) => execArgv(['sh', '-s'], { ...opts, input: script }),
    };
  }
  return {
    machineId: machine.id,
    describe: `ssh ${machine.ssh}`,
    runScript: (script, opts) => runOverSsh(config, machine, script, opts),
  };
}
