// ru (repo_updater): the repositories ru is configured to keep (repo id, configured URL, local
// path) and their git state (status, branch, ahead/behind, dirty, origin mismatch), from
// `ru status --json --no-fetch` and `ru list --json` (see ../shared/upstream/ru.md). Both are
// read-only: --no-fetch keeps status from running `git fetch` in every repository, so ahead and
// behind are against the last fetched tracking refs, like vc's own repos collector.
//
// Stored, one item each (kind snapshot): a `run` (ru's version, the shapes it printed, `total`,
// ru's note when nothing is configured) and a `repo` per repository, keyed by its path (status
// and list joined on it). views/v1/26_repos.sql merges these with vc's repos by machine and path.
//
// Shapes: ru >= 1.3.0 wraps both in an envelope ({generated_at, version, command, data:{total,
// repos}}); ru <= 1.2.1 printed status as a bare array and ignored --json on list (one URL a line,
// which names no path: read as no URLs). ahead/behind -1 (a diverged pair rev-list could not
// count) are stored as NULL: unknown, never a count. No config: empty stdout, exit 0.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import { excerpt, isoTime, parseJson, runTool, stepError, validate, type StepResult } from './toolrun.ts';

const text = z.string().nullable();

export const RU_STATUSES = ['current', 'ahead', 'behind', 'diverged', 'no_upstream', 'not_git', 'missing'] as const;

export const ruSchema = z.strictObject({
  type: z.enum(['run', 'repo']),
  /** run: ru's version (from the envelope; older shapes carry none). */
  version: text,
  generated_at: z.iso.datetime().nullable(),
  /** run: what each command printed: envelope, array (status <= 1.2.1), lines (list <= 1.2.1), empty (nothing configured). */
  status_shape: z.enum(['envelope', 'array', 'empty']).nullable(),
  list_shape: z.enum(['envelope', 'lines', 'empty']).nullable(),
  /** run: status's data.total (ru's count of specs; the repo rows are what it found). */
  total: z.number().int().nullable(),
  /** run: ru's stderr when it printed nothing (e.g. "No configuration found. Run: ru init"). */
  note: text,
  /** repo: "owner/repo" on github.com, else "host/owner/repo". */
  repo: text,
  /** repo: absolute path of the local checkout. */
  path: text,
  /** repo: the URL part of the spec as written in ru's list (null: not listed, or an old ru). */
  url: text,
  /** repo: current, ahead, behind, diverged, no_upstream, not_git, missing (null: in list only). */
  status: text,
  /** repo: null when detached, not a git repository or missing. */
  branch: text,
  /** repo: commits; null when ru could not count them (it prints -1). */
  ahead: z.number().int().nonnegative().nullable(),
  behind: z.number().int().nonnegative().nullable(),
  /** repo: staged, unstaged or untracked changes. */
  dirty: z.boolean().nullable(),
  /** repo: origin's URL differs from the configured one (or there is no origin): needs a look. */
  mismatch: z.boolean().nullable(),
});

export type RuItem = z.infer<typeof ruSchema>;

// ru's output, as the doc (§2) describes it: the fields vc reads, others allowed.
const statusRepo = z.looseObject({
  repo: z.string(),
  path: z.string(),
  status: z.string(),
  branch: z.string().optional(),
  ahead: z.number().int(),
  behind: z.number().int(),
  dirty: z.boolean(),
  mismatch: z.boolean().optional(),
});
const listRepo = z.looseObject({ repo: z.string(), url: z.string(), path: z.string() });
const envelope = <T extends z.ZodType>(repo: T) => z.looseObject({
  generated_at: z.string().optional(),
  version: z.string().optional(),
  command: z.string().optional(),
  data: z.looseObject({ total: z.number().int().optional(), repos: z.array(repo) }),
});

const BLANK: Omit<RuItem, 'type'> = {
  version: null, generated_at: null, status_shape: null, list_shape: null, total: null, note: null,
  repo: null, path: null, url: null, status: null, branch: null, ahead: null, behind: null, dirty: null, mismatch: null,
};

/** ru's own note when it printed nothing: its last stderr line, without the leading symbol. */
const note = (stderr: string) => {
  // ru's log lines start with a symbol (ℹ, ⚠, ✖), which is no part of the message.
  const last = stderr.trim().split('\n').at(-1)?.replace(/^(?:[^\p{L}\p{N}]|[ℹ⚠✖✔✓])+/u, '').trim();
  return last ? last.slice(0, 300) : null;
};

type StatusRepo = z.infer<typeof statusRepo>;
export interface RuStatus { shape: 'envelope' | 'array' | 'empty'; version: string | null; generatedAt: string | null; total: number | null; repos: StatusRepo[]; note: string | null }

/** `ru status --json --no-fetch`: an envelope, a bare array (ru <= 1.2.1) or nothing (no config). */
export function parseRuStatus(step: StepResult): RuStatus {
  const what = 'ru status --json --no-fetch';
  const failed = stepError(what, step);
  if (failed) throw failed;
  if (!step.stdout.trim()) return { shape: 'empty', version: null, generatedAt: null, total: null, repos: [], note: note(step.stderr) };
  const doc = parseJson(step.stdout, what);
  if (Array.isArray(doc)) {
    return { shape: 'array', version: null, generatedAt: null, total: null, repos: validate(z.array(statusRepo), doc, what), note: null };
  }
  const env = validate(envelope(statusRepo), doc, what);
  if (env.command !== undefined && env.command !== 'status') throw new Error(`${what} printed the output of ${excerpt(env.command)}`);
  return { shape: 'envelope', version: env.version?.slice(0, 40) ?? null, generatedAt: isoTime(env.generated_at), total: env.data.total ?? null, repos: env.data.repos, note: null };
}

export interface RuList { shape: 'envelope' | 'lines' | 'empty'; byPath: Map<string, { repo: string; url: string }> }

/** `ru list --json`: the configured URL per path (an envelope), or no URLs (ru <= 1.2.1 printed one URL a line). */
export function parseRuList(step: StepResult): RuList {
  const what = 'ru list --json';
  const failed = stepError(what, step);
  if (failed) throw failed;
  const t = step.stdout.trim();
  if (!t) return { shape: 'empty', byPath: new Map() };
  // The old list: plain lines. ru's lines are specs and URLs; an opening brace or bracket is JSON.
  if (!/^[{[]/.test(t)) return { shape: 'lines', byPath: new Map() };
  const env = validate(envelope(listRepo), parseJson(t, what), what);
  if (env.command !== undefined && env.command !== 'list') throw new Error(`${what} printed the output of ${excerpt(env.command)}`);
  return { shape: 'envelope', byPath: new Map(env.data.repos.map((r) => [r.path, { repo: r.repo, url: r.url }])) };
}

/** -1 (or any negative count) is ru's "could not count": unknown. */
const count = (n: number) => (n >= 0 ? n : null);

/** Every item of one run: the run row, then a repo per path (status first, list-only ones after). */
export function ruItems(steps: { status: StepResult; list: StepResult }): Item[] {
  const status = parseRuStatus(steps.status);
  const list = parseRuList(steps.list);
  const run = {
    ...BLANK, type: 'run' as const, version: status.version, generated_at: status.generatedAt, status_shape: status.shape,
    list_shape: list.shape, total: status.total, note: status.note,
  };
  const items: Item[] = [{ data: run }];
  const seen = new Set<string>();
  for (const r of status.repos) {
    if (seen.has(r.path)) continue; // ru dedupes by path; a second row would double it in the views
    seen.add(r.path);
    items.push({
      key: r.path,
      data: {
        ...BLANK, type: 'repo', repo: r.repo.slice(0, 300), path: r.path, url: list.byPath.get(r.path)?.url.slice(0, 500) ?? null,
        status: r.status.slice(0, 40), branch: r.branch ? r.branch.slice(0, 300) : null,
        ahead: count(r.ahead), behind: count(r.behind), dirty: r.dirty, mismatch: r.mismatch ?? null,
      },
    });
  }
  for (const [path, l] of list.byPath) {
    if (seen.has(path)) continue;
    seen.add(path);
    items.push({ key: path, data: { ...BLANK, type: 'repo', repo: l.repo.slice(0, 300), path, url: l.url.slice(0, 500) } });
  }
  return items;
}

export const ruCollector: CollectorDef = {
  name: 'ru',
  version: '1.0.0',
  schemaVersion: 1,
  schema: ruSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.ru;
    // --json after the command: a global flag either way, and NO_COLOR keeps stderr plain.
    const run = await runTool(ctx, ['ru'], [
      { name: 'status', run: 'NO_COLOR=1 "$VC_TOOL" status --json --no-fetch', timeoutSeconds: cfg.status_timeout_seconds },
      { name: 'list', run: 'NO_COLOR=1 "$VC_TOOL" list --json', timeoutSeconds: cfg.list_timeout_seconds },
    ]);
    if ('absent' in run) return { items: [], absent: run.absent };
    return { items: ruItems({ status: run.steps.status!, list: run.steps.list! }) };
  },
};
