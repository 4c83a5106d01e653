// Where a collector's commands run. Every collector sends one POSIX sh script to its target and
// parses what comes back, so the same collector works on this machine and, over ssh, on others.
import type { Config, Machine } from './config.ts';
import { execArgv, type ExecOptions, type ExecResult } from './exec.ts';
import { runOverSsh, type SshResult } from './ssh.ts';

/** A script's result; `reached`: it got as far as starting on the machine. */
export type ScriptResult = ExecResult & Pick<SshResult, 'reached'>;

export interface Target {
  machineId: string;
  /** Human-readable, for error messages: "local" or "ssh user@host:port". */
  describe: string;
  runScript(script: string, opts: Omit<ExecOptions, 'input'>): Promise<ScriptResult>;
}

export function targetFor(machine: Machine, config: Config): Target {
  if (machine.ssh === 'local') {
    return {
      machineId: machine.id,
      describe: 'local',
      runScript: async (script, opts) => {
        const r = await execArgv(['sh', '-s'], { ...opts, input: script });
        return { ...r, reached: r.spawnError === null };
      },
    };
  }
  return {
    machineId: machine.id,
    describe: `ssh ${machine.ssh}`,
    runScript: (script, opts) => runOverSsh(config, machine, script, opts),
  };
}
