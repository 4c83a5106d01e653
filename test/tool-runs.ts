// One real run of each upstream tool's collector against its recorded output (the fakes serving
// fixtures/<tool>/default.*), as vc stored it: the synthetic fleet replays these lines on its
// machines (fixtures/fleet.ts toolRuns), so the bench's reports read the tool suite's real rows.
import type { Envelope } from '../lib/envelope.ts';
import { collectEnv, fakeTool } from './fakes.ts';

/** The tools whose collectors need nothing but the tool on PATH (the rest read SQLite stores or repositories). */
export const REPLAYED_TOOLS = ['caut', 'caam', 'ru', 'sysmoni', 'rch', 'ntm', 'cass', 'pt', 'dcg'] as const;

export function recordToolRuns(): Record<string, Envelope[]> {
  const runs: Record<string, Envelope[]> = {};
  for (const tool of REPLAYED_TOOLS) {
    const s = collectEnv(tool);
    fakeTool(s.bin, tool);
    const r = s.collect();
    const run = s.lastRun();
    if (r.code !== 0 || run.status !== 'ok') throw new Error(`recording ${tool}'s run: exit ${r.code}, ${run.status} ${run.error ?? ''}\n${r.stderr}`);
    runs[tool] = s.rows() as Envelope[];
  }
  return runs;
}
