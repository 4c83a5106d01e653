// Runs the pinned ccusage 18 (devDependency, node_modules/ccusage) on a generated home, as
// `ccusage daily --json --offline` with TZ=UTC, and returns its daily rows.
//
// How ccusage 18.0.11 finds the logs (dist/data-loader-*.js, getClaudePaths/globUsageFiles):
// CLAUDE_CONFIG_DIR is a comma-separated list of Claude CONFIG dirs (not projects dirs). Each entry
// is path.resolve()d and kept only if it is a directory that has a `projects` subdirectory; ccusage
// then globs `projects/**/*.jsonl` under each (it appends `projects` itself). When the variable is
// set, the default roots (~/.config/claude, ~/.claude) are not read; when no entry is valid it
// throws. It also looks for a ccusage.json config in <cwd>/.ccusage and in those dirs, so it runs
// with cwd = the home and HOME = the home, never the user's.
//
// JSON shape (dist/index.js, dailyCommand): {daily: [{date, inputTokens, outputTokens,
// cacheCreationTokens, cacheReadTokens, totalTokens, totalCost, modelsUsed, modelBreakdowns:
// [{modelName, inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens, cost}]}], totals},
// or a bare [] when there is no data. Dates are formatted with Intl (en-CA) in the process time
// zone, hence TZ=UTC.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/paths.ts';

export interface CcusageBreakdown {
  modelName: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number; cost: number;
}
export interface CcusageDay {
  date: string; inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number;
  totalTokens: number; totalCost: number; modelsUsed: string[]; modelBreakdowns: CcusageBreakdown[];
}

/** The installed ccusage's bin script and version. */
export function ccusageBin(): { bin: string; version: string } {
  const dir = path.join(repoRoot, 'node_modules', 'ccusage');
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; bin: string | Record<string, string> };
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.ccusage;
  if (!rel) throw new Error('ccusage package has no ccusage bin');
  return { bin: path.join(dir, rel), version: pkg.version };
}

/** `ccusage daily --json --offline` over both Claude roots of `home`, in UTC. */
export function ccusageDaily(home: string, extraArgs: string[] = []): CcusageDay[] {
  const { bin } = ccusageBin();
  const roots = [path.join(home, '.claude'), path.join(home, '.config', 'claude')]
    .filter((dir) => fs.existsSync(path.join(dir, 'projects')));
  if (roots.length === 0) throw new Error(`no Claude projects dir under ${home}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: home, TZ: 'UTC', CLAUDE_CONFIG_DIR: roots.join(','),
    XDG_CONFIG_HOME: path.join(home, '.config'), NO_COLOR: '1', LOG_LEVEL: '0',
  };
  const r = spawnSync(process.execPath, [bin, 'daily', '--json', '--offline', ...extraArgs], {
    cwd: home, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`ccusage exited ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { daily: CcusageDay[] } | [];
  return Array.isArray(parsed) ? [] : parsed.daily;
}
