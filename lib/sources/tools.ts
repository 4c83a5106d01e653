// tools: which programs a machine has, found with `command -v` in the login environment the
// collectors run in, plus its host name, kernel and architecture. Collected daily (the cache's
// TTL) and on `vc machines probe`; upstream-tool collectors and `vc machines list` read it.
import { z } from 'zod';
import type { CollectorDef } from '../collector.ts';
import { sectionScript, sectionText } from '../sections.ts';

/** The fleet's helper tools (shared/upstream), the agents, and what vc's own scripts rely on. */
export const KNOWN_TOOLS = [
  'ntm', 'caut', 'caam', 'cass', 'rch', 'rchd', 'ru', 'pt', 'pt-core', 'dcg', 'sysmoni', 'rano', 'bv', 'br',
  'automated_flywheel_setup_checker', 'cloud_benchmarker', 'mcp_agent_mail',
  'claude', 'codex', 'gemini',
  'git', 'tmux', 'sqlite3', 'ps', 'find', 'timeout', 'flock', 'curl',
] as const;

export const toolsSchema = z.object({
  hostname: z.string().nullable(),
  kernel: z.string().nullable(),
  arch: z.string().nullable(),
  tools: z.array(z.object({ name: z.string(), path: z.string().nullable() })),
});

export type ToolsData = z.infer<typeof toolsSchema>;

const NAME = /^[A-Za-z0-9._+-]+$/;

export function buildToolsScript(names: readonly string[]) {
  // Names are plain words (checked here and by the config schema): safe to splice unquoted.
  for (const n of names) if (!NAME.test(n)) throw new Error(`not a plain program name: ${JSON.stringify(n)}`);
  return sectionScript([
    ['host', 'uname -n; uname -s -r; uname -m'],
    ['tools', `for t in ${names.join(' ')}; do printf '%s\\t%s\\n' "$t" "$(command -v "$t" 2>/dev/null)"; done`],
  ]);
}

export function parseToolsOutput(host: string, tools: string, names: readonly string[]): ToolsData {
  const [hostname, kernel, arch] = host.split('\n').map((l) => l.trim());
  const found = new Map<string, string | null>(names.map((n) => [n, null]));
  for (const line of tools.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const name = line.slice(0, tab);
    const where = line.slice(tab + 1).trim();
    // Only names asked for; a path must be absolute (an alias or function is reported as such by
    // command -v without a slash: present, but not a program vc can run).
    if (found.has(name)) found.set(name, where.startsWith('/') ? where.slice(0, 500) : where ? `(${where.slice(0, 100)})` : null);
  }
  return {
    hostname: hostname || null, kernel: kernel || null, arch: arch || null,
    tools: [...found].map(([name, path]) => ({ name, path })),
  };
}

export const toolsCollector: CollectorDef = {
  name: 'tools',
  version: '1.0.0',
  schemaVersion: 1,
  schema: toolsSchema,
  async collect(ctx) {
    const names = [...new Set([...KNOWN_TOOLS, ...ctx.config.collectors.tools.extra])];
    const script = buildToolsScript(names);
    const sections = script.parse((await ctx.run('tools probe', script.script)).stdout);
    return { items: [{ data: parseToolsOutput(sectionText(sections, 'host'), sectionText(sections, 'tools'), names) }] };
  },
};
