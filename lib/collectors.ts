// The code of every collector, loaded on demand: a process loads only the collectors it runs.
// lib/catalog.ts has their names and defaults as plain data (test/catalog.test.ts checks both agree).
import type { CollectorName } from './catalog.ts';
import type { CollectorDef } from './collector.ts';

export const COLLECTOR_CODE: Record<CollectorName, () => Promise<CollectorDef>> = {
  sys: async () => (await import('./sources/sys.ts')).sysCollector,
  repos: async () => (await import('./sources/repos.ts')).reposCollector,
  agents: async () => (await import('./sources/agents.ts')).agentsCollector,
  tools: async () => (await import('./sources/tools.ts')).toolsCollector,
  'claude-logs': async () => (await import('./sources/claude-logs.ts')).claudeLogsCollector,
  'codex-logs': async () => (await import('./sources/codex-logs.ts')).codexLogsCollector,
  'gemini-logs': async () => (await import('./sources/gemini-logs.ts')).geminiLogsCollector,
  caut: async () => (await import('./sources/caut.ts')).cautCollector,
  beads: async () => (await import('./sources/beads.ts')).beadsCollector,
  ntm: async () => (await import('./sources/ntm.ts')).ntmCollector,
  cass: async () => (await import('./sources/cass.ts')).cassCollector,
  sysmoni: async () => (await import('./sources/sysmoni.ts')).sysmoniCollector,
  afsc: async () => (await import('./sources/afsc.ts')).afscCollector,
  'cloud-bench': async () => (await import('./sources/cloud-bench.ts')).cloudBenchCollector,
  'agent-mail': async () => (await import('./sources/agent-mail.ts')).agentMailCollector,
  caam: async () => (await import('./sources/caam.ts')).caamCollector,
  ru: async () => (await import('./sources/ru.ts')).ruCollector,
  dcg: async () => (await import('./sources/dcg.ts')).dcgCollector,
  rano: async () => (await import('./sources/rano.ts')).ranoCollector,
  rch: async () => (await import('./sources/rch.ts')).rchCollector,
  pt: async () => (await import('./sources/pt.ts')).ptCollector,
};
