// Where a collector's commands run. Every collector sends one POSIX sh script to its target and
// parses what comes back, so the same collector works on this machine and (over ssh) on others.
import type { Machine } from './config.ts';
import { execArgv, type ExecOptions, type ExecResult } from './exec.ts';

export interface Target {
  machineId: string;
  /** Human-readable, for error messages: "local" or the ssh destination. */
  describe: string;
  runScript(script: string, opts: Omit<ExecOptions, 'input'>): Promise<ExecResult>;
}

export function localTarget(machineId: string): Target {
  return {
    machineId,
    describe: 'local',
    runScript: (script, opts) => execArgv(['sh', '-s'], { ...opts, input: script }),
  };
}

export function targetFor(machine: Machine): Target {
  if (machine.ssh === 'local') return localTarget(machine.id);
  throw new Error(`machine "${machine.id}" is remote (${machine.ssh}); remote collection over ssh is not available in this version of vc`);
}
