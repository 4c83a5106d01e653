// The collectors vc has and the sources it stores, as plain data: the query path reads this
// without loading any collector code. test/catalog.test.ts checks it against lib/collectors.ts.

export interface CollectorInfo {
  description: string;
  intervalSeconds: number;
  timeoutSeconds: number;
}

export const COLLECTORS = {
  sys: { description: 'load, CPU, memory, swap, filesystems, uptime, top processes, OOM kills, inotify', intervalSeconds: 120, timeoutSeconds: 30 },
  repos: { description: 'git repositories under the configured roots: branch, dirty, untracked, ahead/behind, stash, last commit', intervalSeconds: 600, timeoutSeconds: 60 },
  agents: { description: 'tmux sessions and panes, running coding agents with cwd, CPU, memory, age and pane', intervalSeconds: 120, timeoutSeconds: 30 },
  tools: { description: 'which upstream tools each machine has (command -v), cached for a day', intervalSeconds: 86400, timeoutSeconds: 20 },
  'claude-logs': { description: 'Claude Code session logs, read incrementally: per-message token usage (no transcript text)', intervalSeconds: 300, timeoutSeconds: 120 },
  'codex-logs': { description: 'Codex CLI session logs, read incrementally: cumulative token counts, models, server-side rate limits', intervalSeconds: 300, timeoutSeconds: 120 },
  'gemini-logs': { description: 'Gemini CLI chat logs (JSONL and legacy JSON), read incrementally: per-message token usage', intervalSeconds: 300, timeoutSeconds: 120 },
  caut: { description: 'caut usage --json: per provider account, usage windows (used %, resets), login, status page, caut errors', intervalSeconds: 300, timeoutSeconds: 90 },
  dcg: { description: 'dcg (destructive_command_guard): denied and allowed commands, rule, pack, cwd, command hash, from pending_exceptions.jsonl and its history DB, incrementally', intervalSeconds: 300, timeoutSeconds: 90 },
  rano: { description: 'rano: agents\' network connections (provider, process, remote host and port, duration) from its SQLite store, by row id', intervalSeconds: 300, timeoutSeconds: 90 },
} as const satisfies Record<string, CollectorInfo>;

export type CollectorName = keyof typeof COLLECTORS;
export const COLLECTOR_NAMES = Object.keys(COLLECTORS) as CollectorName[];

/** Every stored source, by the name it is queryable under. */
export const SOURCES: readonly SourceName[] = [...COLLECTOR_NAMES, 'collector_runs'];
export type SourceName = CollectorName | 'collector_runs';

/** A source's name in SQL (views, tables, variables): `claude-logs` is `claude_logs`. */
export const sqlName = (source: string): string => source.replaceAll('-', '_');

export const isCollectorName = (s: string): s is CollectorName => Object.hasOwn(COLLECTORS, s);
