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
  beads: { description: 'beads issue trackers in the known repositories: br ready/list (ready, blocked, in progress) and bv triage, plan and insights', intervalSeconds: 600, timeoutSeconds: 240 },
  ntm: { description: 'ntm robot status and snapshot: tmux sessions, agents with their state, ntm health; its events.jsonl read incrementally (sessions created, agents spawned, prompts sent)', intervalSeconds: 300, timeoutSeconds: 90 },
  cass: { description: 'cass health, stats and timeline: search index health and freshness, conversations by agent and workspace, sessions started per hour', intervalSeconds: 900, timeoutSeconds: 300 },
  sysmoni: { description: 'sysmoni --json-stream (second sample): CPU % over an interval, per core, load, memory, swap, disk and network rates, GPUs, temperatures, battery, top processes', intervalSeconds: 120, timeoutSeconds: 30 },
  afsc: { description: 'automated_flywheel_setup_checker status: its latest run of installer checks, per installer status and classified error', intervalSeconds: 1800, timeoutSeconds: 60 },
  'cloud-bench': { description: "cloud_benchmarker's SQLite store, read incrementally: per benchmarked host and run, sysbench subscores and the overall score", intervalSeconds: 3600, timeoutSeconds: 60 },
  'agent-mail': { description: 'mcp_agent_mail store (read-only SQLite): messages, read/ack times, file reservations, open items, agents (no bodies, no tokens)', intervalSeconds: 300, timeoutSeconds: 120 },
  // caam limits calls each provider's API once per vault profile: every 10 minutes at most.
  caam: { description: 'caam status --json and limits --format json: active profile per tool, health, cooldown, quota windows of every vault profile', intervalSeconds: 600, timeoutSeconds: 120 },
  ru: { description: 'ru status --json --no-fetch and ru list --json: the repositories ru keeps, with status, branch, ahead/behind, dirty, origin mismatch', intervalSeconds: 600, timeoutSeconds: 90 },
  dcg: { description: 'dcg (destructive_command_guard): denied and allowed commands, rule, pack, cwd, command hash, from pending_exceptions.jsonl and its history DB, incrementally', intervalSeconds: 300, timeoutSeconds: 90 },
  rano: { description: 'rano: agents\' network connections (provider, process, remote host and port, duration) from its SQLite store, by row id', intervalSeconds: 300, timeoutSeconds: 90 },
  rch: { description: 'rch status: daemon, workers, queue, active and completed builds, alerts, remediation hints; rchd\'s build history tailed; its /metrics where configured', intervalSeconds: 120, timeoutSeconds: 90 },
  pt: { description: 'pt robot plan: processes pt finds abandoned, stuck or runaway, with its recommended action (never applied)', intervalSeconds: 900, timeoutSeconds: 150 },
} as const satisfies Record<string, CollectorInfo>;

export type CollectorName = keyof typeof COLLECTORS;
export const COLLECTOR_NAMES = Object.keys(COLLECTORS) as CollectorName[];

/** Every stored source, by the name it is queryable under. */
export const SOURCES: readonly SourceName[] = [...COLLECTOR_NAMES, 'collector_runs'];
export type SourceName = CollectorName | 'collector_runs';

/** A source's name in SQL (views, tables, variables): `claude-logs` is `claude_logs`. */
export const sqlName = (source: string): string => source.replaceAll('-', '_');

export const isCollectorName = (s: string): s is CollectorName => Object.hasOwn(COLLECTORS, s);
