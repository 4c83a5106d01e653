// beads: the issue trackers in the machine's repositories (a `.beads/` directory beside `.git`),
// read through br (beads_rust: `ready`, `list`) and bv (beads_viewer: `--robot-triage`, `--robot-plan`,
// `--robot-insights`), as ../shared/upstream/beads.md documents them. The repositories are the
// ones the repos collector knows (its roots, depth and excludes), found on the machine by the same
// script that then runs each command with the repository as its cwd, each within its own timeout,
// at most max_repos of them per run.
//
// Stored, one item each (kind snapshot): a `run` (tools found, repositories found and checked), a
// `repo` per repository (counts from br and from bv's triage, plan and insights), an `issue` per
// issue that is not closed (br list, flagged ready from br ready; no description, notes or
// comments: ids, statuses and counts, and the title unless `titles = false`), a `pick` per item bv
// ranks (its top picks, recommendations, quick wins, blockers to clear, bottlenecks) and an `error`
// per command that failed in a repository. A command's own error (br's error object, bv's
// "Error handling ...") is data; output vc cannot read (garbage, a wrong shape, a hang) is an
// error row and a warning, and the run an error only when nothing at all could be read.
import { z } from 'zod';
import type { CollectorDef, Item } from '../collector.ts';
import type { Config } from '../config.ts';
import { shQuote } from '../shell.ts';
import { rootWord } from './repos.ts';
import { excerpt, isoTime, lastJsonObject, runToolInDirs, validate, type DirRun, type DirStep, type DirStepResult } from './toolrun.ts';

const int = z.number().int();
const text = z.string().nullable();
const time = z.iso.datetime().nullable();

export const beadsSchema = z.strictObject({
  type: z.enum(['run', 'repo', 'issue', 'pick', 'error']),
  /** The repository (the directory holding `.beads/` and `.git`); null on the run row. */
  repo: text,
  /** run: repositories with a `.beads/` found under the roots, and how many were checked (max_repos). */
  repos_found: int.nullable(),
  repos_checked: int.nullable(),
  br_installed: z.boolean().nullable(),
  bv_installed: z.boolean().nullable(),
  /** repo: issues `br ready` returned; NULL when br ready was not read. */
  ready_count: int.nullable(),
  /** repo: issues `br list` returned that are not closed, and its page total (NULL from a br that printed a bare array). */
  list_count: int.nullable(),
  list_total: int.nullable(),
  /** repo: `page` ({issues,total,...}, br >= 0.1.30) or `array` (older br). */
  list_shape: text,
  /** repo: bv's fingerprint of the issues it loaded and when it answered. */
  data_hash: text,
  bv_generated_at: time,
  /** repo, from bv --robot-triage: issues loaded (closed too), actionable, not closed, not actionable. */
  issue_count: int.nullable(),
  actionable_count: int.nullable(),
  not_closed_count: int.nullable(),
  not_actionable_count: int.nullable(),
  /** repo: issues whose status is exactly open / blocked / in_progress (NULL where an older bv did not say). */
  open_count: int.nullable(),
  blocked_count: int.nullable(),
  in_progress_count: int.nullable(),
  closed_count: int.nullable(),
  /** repo: `strict` (bv with not_closed_count) or `legacy` (its open/blocked counts meant not closed/not actionable). */
  counts_era: text,
  has_cycles: z.boolean().nullable(),
  cycle_count: int.nullable(),
  stale_count: int.nullable(),
  closed_last_7_days: int.nullable(),
  closed_last_30_days: int.nullable(),
  /** repo: bv's git-history walk: ok, error, timeout, skipped. */
  history_status: text,
  /** repo: codes of bv's degraded warnings; records bv dropped while loading (load_stats.errors). */
  degraded: z.array(z.string()).nullable(),
  load_errors: int.nullable(),
  /** repo: bv's command to claim its top pick (shown, never run); NULL when bv gave none. */
  claim_top: text,
  /** repo, from bv --robot-plan: parallel tracks, actionable and blocked issues, the highest-impact one. */
  plan_tracks: int.nullable(),
  plan_actionable: int.nullable(),
  plan_blocked: int.nullable(),
  plan_highest_impact: text,
  plan_unblocks_count: int.nullable(),
  /** repo, from bv --robot-insights: dependency cycles, cut vertices, issues with no dependencies, density. */
  insight_cycles: int.nullable(),
  insight_articulation: int.nullable(),
  insight_orphans: int.nullable(),
  cluster_density: z.number().finite().nullable(),
  /** issue and pick: the issue. */
  id: text,
  title: text,
  status: text,
  priority: int.nullable(),
  issue_type: text,
  assignee: text,
  created_at: time,
  updated_at: time,
  defer_until: time,
  due_at: time,
  labels: z.array(z.string()).nullable(),
  dependency_count: int.nullable(),
  dependent_count: int.nullable(),
  /** issue: in br ready's answer; NULL when br ready was not read. */
  ready: z.boolean().nullable(),
  /** pick: top_pick, recommendation, quick_win, blocker (to clear) or bottleneck; its rank (1 = first) in that list. */
  kind: text,
  rank: int.nullable(),
  /** pick: bv's score (about 0-1 for recommendations; betweenness for bottlenecks). */
  score: z.number().finite().nullable(),
  action: text,
  reason: text,
  /** pick: issues it unblocks, issues blocking it; for a blocker, whether it can be worked on now. */
  unblocks: int.nullable(),
  blocked_by: int.nullable(),
  actionable: z.boolean().nullable(),
  /** error: the command (br ready, bv --robot-triage, ...), its exit status, what went wrong. */
  step: text,
  exit_code: int.nullable(),
  /** error: tool (the tool reported it), timeout, output (not readable), size (too large to send). */
  error_kind: text,
  /** error: br's error code (DATABASE_LOCKED, ...); whether br says a retry may work. */
  error_code: text,
  message: text,
  retryable: z.boolean().nullable(),
});

export type BeadsItem = z.infer<typeof beadsSchema>;
type Data = Omit<BeadsItem, 'type'>;

const BLANK: Data = Object.fromEntries(Object.keys(beadsSchema.shape).filter((k) => k !== 'type').map((k) => [k, null])) as Data;

// ---------------------------------------------------------------------------------------------
// The commands

export type BeadsSettings = Config['collectors']['beads'];

/** Each command: its step name, how errors name it, and the sh that runs it (in the repository). */
export const COMMANDS = {
  br_ready: 'br ready --json --limit 0',
  br_list: 'br list --json --limit 0',
  bv_triage: 'bv --robot-triage',
  bv_plan: 'bv --robot-plan',
  bv_insights: 'bv --robot-insights',
} as const;
export type StepName = keyof typeof COMMANDS;

// A BEADS_DIR or a DB override inherited from the collectors' shell would point every repository
// at one tracker; TOON_DEFAULT_FORMAT would switch bv to TOON.
const CLEAN_ENV = 'unset BEADS_DIR BEADS_DB BD_DB BD_DATABASE BEADS_JSONL TOON_DEFAULT_FORMAT BR_OUTPUT_FORMAT BV_PRETTY_JSON';
const BR = `${CLEAN_ENV}; RUST_LOG=error; export RUST_LOG; exec "$VC_TOOL"`;
const BV = `${CLEAN_ENV}; BV_OUTPUT_FORMAT=json BV_ROBOT=1 BV_INSIGHTS_MAP_LIMIT=50; export BV_OUTPUT_FORMAT BV_ROBOT BV_INSIGHTS_MAP_LIMIT; exec "$VC_TOOL"`;

export function beadsSteps(settings: BeadsSettings): DirStep[] {
  const br = { tool: 'br', timeoutSeconds: settings.br_timeout_seconds };
  const bv = { tool: 'bv', timeoutSeconds: settings.bv_timeout_seconds };
  return [
    // --limit 0: before br 0.2.x, ready stopped at 20 rows and list at 50 without saying so.
    // No --all: closed issues would be most of the output and are no work.
    { ...br, name: 'br_ready', run: `${BR} ready --json --limit 0` },
    { ...br, name: 'br_list', run: `${BR} list --json --limit 0` },
    { ...bv, name: 'bv_triage', run: `${BV} --robot-triage` },
    { ...bv, name: 'bv_plan', run: `${BV} --robot-plan` },
    ...(settings.insights ? [{ ...bv, name: 'bv_insights', run: `${BV} --robot-insights` }] : []),
  ];
}

/**
 * The sh that prints the repositories to check: a `.beads` directory beside a `.git`, under the
 * repos collector's roots, as deep and with the same excludes (and never inside a `.git`).
 */
export function findSnippet(repos: Config['collectors']['repos']): string {
  const roots = repos.roots.map((root) => {
    const { word, home } = rootWord(root);
    return `${home ? '[ -n "$HOME" ] && ' : ''}[ -d ${word} ] && set -- "$@" ${word}`;
  });
  const excludes = ['.git', ...repos.exclude].map((name) => `-name ${shQuote(name)}`).join(' -o ');
  return `set --
${roots.join('\n')}
[ $# -gt 0 ] || exit 0
NL='
'
find "$@" -maxdepth ${repos.max_depth + 1} \\( -name "*$NL*" -o -type d \\( ${excludes} \\) \\) -prune -o -type d -name .beads -print -prune | tr -s / |
while IFS= read -r b; do r=\${b%/.beads}; [ -e "$r/.git" ] && printf '%s\\n' "$r"; done
exit 0`;
}

// ---------------------------------------------------------------------------------------------
// Reading one command's answer

/** Why a command's answer could not be used; `tool` ones are the tool's own report (data). */
export class StepError extends Error {
  constructor(message: string, readonly kind: 'tool' | 'timeout' | 'output' | 'size', readonly exitCode: number | null,
    readonly code: string | null = null, readonly retryable: boolean | null = null) {
    super(message);
  }
}

const cut = (s: string | null | undefined, n: number) => (typeof s === 'string' ? s.slice(0, n) : null);

/** br's error object, the last JSON line of stderr: {"error":{"code","message","retryable",...}}. */
function brError(stderr: string): { code: string; message: string | null; retryable: boolean | null } | null {
  const e = lastJsonObject(stderr)?.error as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return null;
  return { code: e.code.slice(0, 60), message: cut(e.message as string, 1000), retryable: typeof e.retryable === 'boolean' ? e.retryable : null };
}

/** bv's failure line on stderr: `Error handling --robot-triage: <err>` (or any `Error...` line). */
function bvError(stderr: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.findLast((l) => /^Error\b/.test(l)) ?? null;
}

/** The JSON document a step printed, or a StepError saying why there is none. */
export function readStep(step: StepName, r: DirStepResult): unknown {
  const what = COMMANDS[step];
  if (r.rc === 124) throw new StepError(`${what} did not answer in time and was stopped`, 'timeout', r.rc);
  if (!r.kept) throw new StepError(`${what} printed ${r.bytes} bytes, more than the run's output budget left; not read`, 'size', r.rc);
  const out = r.stdout.trim();
  if (r.rc !== 0) {
    if (step.startsWith('br_')) {
      const e = brError(r.stderr);
      if (e) throw new StepError(e.message ?? e.code, 'tool', r.rc, e.code, e.retryable);
    } else {
      const e = bvError(r.stderr);
      if (e) throw new StepError(e.slice(0, 1000), 'tool', r.rc);
    }
    const said = r.stderr.trim() ? `; stderr: ${excerpt(r.stderr.trim().split('\n').slice(-2).join(' '))}` : '';
    throw new StepError(`${what} exited ${r.rc}${out ? `: ${excerpt(out)}` : ''}${said}`, 'output', r.rc);
  }
  if (!out) throw new StepError(`${what} printed nothing`, 'output', r.rc);
  if (!/^[[{]/.test(out)) {
    // TOON (from an inherited format setting) or anything else that is not JSON.
    throw new StepError(`${what} did not print JSON: ${excerpt(out)}`, 'output', r.rc);
  }
  try {
    return JSON.parse(out);
  } catch {
    throw new StepError(`${what} did not print JSON: ${excerpt(out)}`, 'output', r.rc);
  }
}

/** Validates a step's JSON; a wrong shape is a StepError naming the command. */
function shaped<S extends z.ZodType>(step: StepName, schema: S, value: unknown): z.infer<S> {
  try {
    return validate(schema, value, COMMANDS[step]);
  } catch (err) {
    throw new StepError((err as Error).message, 'output', 0);
  }
}

// ---------------------------------------------------------------------------------------------
// br (§1 of the doc)

const optText = z.string().nullable().optional();
const strings = z.array(z.string()).nullable().optional();

const brIssue = z.looseObject({
  id: z.string().min(1),
  title: z.string(),
  status: z.string(),
  priority: int,
  issue_type: z.string(),
  assignee: optText,
  created_at: z.string(),
  updated_at: z.string(),
  defer_until: optText,
  due_at: optText,
  /** Absent from br ready before 0.2.12, and from list items without labels. */
  labels: strings,
  dependency_count: int.nullable().optional(),
  dependent_count: int.nullable().optional(),
});
type BrIssue = z.infer<typeof brIssue>;

const brReadySchema = z.array(brIssue);
const brListSchema = z.union([
  z.array(brIssue),
  z.looseObject({ issues: z.array(brIssue), total: int, limit: int.optional(), offset: int.optional(), has_more: z.boolean().optional() }),
]);

/** Statuses past which an issue is no work: not stored as issues. */
const TERMINAL = new Set(['closed', 'tombstone']);

export interface BrList { issues: BrIssue[]; total: number | null; shape: 'page' | 'array'; hasMore: boolean }

export function parseBrList(value: unknown): BrList {
  const v = shaped('br_list', brListSchema, value);
  if (Array.isArray(v)) return { issues: v, total: null, shape: 'array', hasMore: false };
  return { issues: v.issues, total: v.total, shape: 'page', hasMore: v.has_more === true };
}

export const parseBrReady = (value: unknown): BrIssue[] => shaped('br_ready', brReadySchema, value);

// ---------------------------------------------------------------------------------------------
// bv (§2 of the doc). Go prints nil slices as null: every list may be null.

const list = <T extends z.ZodType>(el: T) => z.array(el).nullable().optional();
const num = z.number().finite();

const recommendation = z.looseObject({
  id: z.string(), title: z.string().optional(), type: optText, status: optText, assignee: optText,
  priority: int.nullable().optional(), score: num.nullable().optional(), action: optText,
  reasons: strings, unblocks_ids: strings, blocked_by: strings,
});
const triageSchema = z.looseObject({
  generated_at: z.string(),
  data_hash: z.string().optional(),
  load_stats: z.looseObject({ errors: int.optional() }).nullable().optional(),
  degraded: list(z.looseObject({ code: z.string() })),
  triage: z.looseObject({
    meta: z.looseObject({ issue_count: int.optional(), history_status: optText }).optional(),
    quick_ref: z.looseObject({
      open_count: int, actionable_count: int, blocked_count: int, in_progress_count: int.optional(),
      not_closed_count: int.optional(), not_actionable_count: int.optional(),
      top_picks: list(z.looseObject({ id: z.string(), title: z.string().optional(), score: num.nullable().optional(), reasons: strings, unblocks: int.nullable().optional() })),
    }),
    recommendations: list(recommendation),
    quick_wins: list(z.looseObject({ id: z.string(), title: z.string().optional(), score: num.nullable().optional(), reason: optText, unblocks_ids: strings })),
    blockers_to_clear: list(z.looseObject({ id: z.string(), title: z.string().optional(), unblocks_count: int.nullable().optional(), actionable: z.boolean().nullable().optional(), blocked_by: strings })),
    project_health: z.looseObject({
      counts: z.looseObject({ closed: int.optional(), by_status: z.record(z.string(), int).nullable().optional() }).optional(),
      graph: z.looseObject({ has_cycles: z.boolean().optional(), cycle_count: int.optional() }).optional(),
      velocity: z.looseObject({ closed_last_7_days: int.optional(), closed_last_30_days: int.optional() }).nullable().optional(),
      staleness: z.looseObject({ stale_count: int.optional() }).nullable().optional(),
    }).optional(),
    commands: z.looseObject({ claim_top: optText }).nullable().optional(),
  }),
});
type Triage = z.infer<typeof triageSchema>;

const planSchema = z.looseObject({
  generated_at: z.string().optional(),
  data_hash: z.string().optional(),
  plan: z.looseObject({
    tracks: list(z.looseObject({ track_id: z.string().optional(), items: list(z.looseObject({ id: z.string() })) })),
    total_actionable: int,
    total_blocked: int,
    summary: z.looseObject({ highest_impact: optText, unblocks_count: int.optional() }).optional(),
  }),
});

const insightsSchema = z.looseObject({
  generated_at: z.string().optional(),
  data_hash: z.string().optional(),
  Bottlenecks: list(z.looseObject({ ID: z.string(), Value: num })),
  Articulation: strings,
  Orphans: strings,
  Cycles: list(z.array(z.string()).nullable()),
  ClusterDensity: num.nullable().optional(),
});

const first = (xs: readonly string[] | null | undefined) => cut(xs?.[0], 300);

/** The counts of bv's triage in today's meanings, whatever the bv's era (see the doc, #165). */
export function triageCounts(t: Triage): Partial<Data> {
  const q = t.triage.quick_ref;
  const ph = t.triage.project_health;
  const byStatus = ph?.counts?.by_status ?? null;
  const strict = q.not_closed_count !== undefined;
  return {
    issue_count: t.triage.meta?.issue_count ?? null,
    actionable_count: q.actionable_count,
    // Before #165, open_count meant "not closed" and blocked_count "not actionable".
    not_closed_count: strict ? q.not_closed_count! : q.open_count,
    not_actionable_count: strict ? (q.not_actionable_count ?? null) : q.blocked_count,
    open_count: strict ? q.open_count : (byStatus?.open ?? null),
    blocked_count: strict ? q.blocked_count : (byStatus?.blocked ?? null),
    in_progress_count: q.in_progress_count ?? null,
    closed_count: ph?.counts?.closed ?? null,
    counts_era: strict ? 'strict' : 'legacy',
    has_cycles: ph?.graph?.has_cycles ?? null,
    // cycle_count is left out when 0.
    cycle_count: ph?.graph?.cycle_count ?? (ph?.graph?.has_cycles === false ? 0 : null),
    stale_count: ph?.staleness?.stale_count ?? null,
    closed_last_7_days: ph?.velocity?.closed_last_7_days ?? null,
    closed_last_30_days: ph?.velocity?.closed_last_30_days ?? null,
    history_status: cut(t.triage.meta?.history_status, 40),
    degraded: t.degraded?.map((d) => d.code.slice(0, 80)) ?? [],
    load_errors: t.load_stats?.errors ?? 0,
    claim_top: cut(t.triage.commands?.claim_top || null, 300),
    data_hash: cut(t.data_hash, 80),
    bv_generated_at: isoTime(t.generated_at),
  };
}

// ---------------------------------------------------------------------------------------------
// One repository's items

export interface RepoItems {
  items: Item[];
  /** Commands whose answer could not be read (not the tool's own errors). */
  unreadable: StepError[];
  /** Commands whose answer was read (the tool's own error counts as read). */
  read: number;
}

/** Items from the steps run in one repository. */
export function repoItems(run: Pick<DirRun, 'dir' | 'steps'>, opts: { titles: boolean }): RepoItems {
  const repo = run.dir;
  const title = (t: string | undefined | null) => (opts.titles ? cut(t, 200) : null);
  const out: RepoItems = { items: [], unreadable: [], read: 0 };
  const row: Data = { ...BLANK, repo };
  const more: Item[] = [];
  const attempt = <T>(step: StepName, parse: (v: unknown) => T): T | null => {
    const r = run.steps[step];
    if (!r) return null;
    try {
      const v = parse(readStep(step, r));
      out.read++;
      return v;
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError(`${COMMANDS[step]}: ${(err as Error).message}`, 'output', r.rc);
      if (e.kind === 'tool') out.read++;
      else out.unreadable.push(e);
      more.push({ data: { ...BLANK, type: 'error', repo, step: COMMANDS[step], exit_code: e.exitCode, error_kind: e.kind, error_code: e.code, message: e.message.slice(0, 1000), retryable: e.retryable } });
      return null;
    }
  };

  const ready = attempt('br_ready', parseBrReady);
  const listed = attempt('br_list', parseBrList);
  row.ready_count = ready?.length ?? null;
  const readyIds = ready ? new Set(ready.map((i) => i.id)) : null;
  if (listed) {
    row.list_shape = listed.shape;
    row.list_total = listed.total;
    // With --limit 0 br returns everything; a page that says otherwise is kept, and said.
    if (listed.hasMore) {
      more.push({ data: { ...BLANK, type: 'error', repo, step: COMMANDS.br_list, exit_code: 0, error_kind: 'output', message: `br list returned ${listed.issues.length} of ${listed.total} issues (has_more): the counts are incomplete` } });
    }
  }
  // Every issue once: list's (it has the dependency counts), else ready's.
  const issues = new Map<string, BrIssue>();
  for (const i of ready ?? []) issues.set(i.id, i);
  let listCount = 0;
  for (const i of listed?.issues ?? []) {
    if (TERMINAL.has(i.status)) continue;
    issues.set(i.id, i);
    listCount++;
  }
  if (listed) row.list_count = listCount;
  const issueItems: Item[] = [...issues.values()].map((i) => ({
    data: {
      ...BLANK, type: 'issue', repo, id: cut(i.id, 200), title: title(i.title), status: cut(i.status, 60), priority: i.priority,
      issue_type: cut(i.issue_type, 60), assignee: cut(i.assignee, 200), created_at: isoTime(i.created_at), updated_at: isoTime(i.updated_at),
      defer_until: isoTime(i.defer_until), due_at: isoTime(i.due_at), labels: i.labels?.slice(0, 50).map((l) => l.slice(0, 100)) ?? null,
      dependency_count: i.dependency_count ?? null, dependent_count: i.dependent_count ?? null,
      ready: readyIds ? readyIds.has(i.id) : null,
    },
  }));

  const triage = attempt('bv_triage', (v) => shaped('bv_triage', triageSchema, v));
  const picks: Item[] = [];
  const pick = (kind: string, rank: number, p: Partial<Data>) => picks.push({ data: { ...BLANK, type: 'pick', repo, kind, rank, ...p } });
  if (triage) {
    Object.assign(row, triageCounts(triage));
    const t = triage.triage;
    (t.quick_ref.top_picks ?? []).forEach((p, k) => pick('top_pick', k + 1, { id: cut(p.id, 200), title: title(p.title), score: p.score ?? null, reason: first(p.reasons), unblocks: p.unblocks ?? null }));
    (t.recommendations ?? []).forEach((p, k) => pick('recommendation', k + 1, {
      id: cut(p.id, 200), title: title(p.title), issue_type: cut(p.type, 60), status: cut(p.status, 60), priority: p.priority ?? null,
      assignee: cut(p.assignee, 200), score: p.score ?? null, action: cut(p.action, 200), reason: first(p.reasons),
      unblocks: p.unblocks_ids?.length ?? 0, blocked_by: p.blocked_by?.length ?? 0,
    }));
    (t.quick_wins ?? []).forEach((p, k) => pick('quick_win', k + 1, { id: cut(p.id, 200), title: title(p.title), score: p.score ?? null, reason: cut(p.reason, 300), unblocks: p.unblocks_ids?.length ?? 0 }));
    (t.blockers_to_clear ?? []).forEach((p, k) => pick('blocker', k + 1, {
      id: cut(p.id, 200), title: title(p.title), unblocks: p.unblocks_count ?? null, blocked_by: p.blocked_by?.length ?? 0, actionable: p.actionable ?? null,
    }));
  }
  const plan = attempt('bv_plan', (v) => shaped('bv_plan', planSchema, v));
  if (plan) {
    row.plan_tracks = plan.plan.tracks?.length ?? 0;
    row.plan_actionable = plan.plan.total_actionable;
    row.plan_blocked = plan.plan.total_blocked;
    row.plan_highest_impact = cut(plan.plan.summary?.highest_impact || null, 200);
    row.plan_unblocks_count = plan.plan.summary?.unblocks_count ?? null;
    row.data_hash ??= cut(plan.data_hash, 80);
  }
  const insights = attempt('bv_insights', (v) => shaped('bv_insights', insightsSchema, v));
  if (insights) {
    row.insight_cycles = insights.Cycles?.length ?? 0;
    row.insight_articulation = insights.Articulation?.length ?? 0;
    row.insight_orphans = insights.Orphans?.length ?? 0;
    row.cluster_density = insights.ClusterDensity ?? null;
    (insights.Bottlenecks ?? []).slice(0, 5).forEach((b, k) => pick('bottleneck', k + 1, { id: cut(b.ID, 200), score: b.Value }));
  }
  // bv's own summary beside the row: the parts whose meaning changed between versions.
  const raw = triage ? { meta: triage.triage.meta, quick_ref: { ...triage.triage.quick_ref, top_picks: undefined }, project_health: triage.triage.project_health, degraded: triage.degraded, load_stats: triage.load_stats } : undefined;
  out.items.push({ data: { ...row, type: 'repo' }, ...(raw ? { raw } : {}) }, ...issueItems, ...picks, ...more);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The collector

export interface BeadsResult { items: Item[]; warnings: string[] }

/** Items and warnings of a whole run; throws when not one command's answer could be read. */
export function beadsItems(run: { tools: Record<string, string>; found: number; find: { rc: number | null; stderr: string }; dirs: DirRun[] },
  opts: { titles: boolean; maxRepos: number; findTimeoutSeconds: number }): BeadsResult {
  const warnings: string[] = [];
  const items: Item[] = [{
    data: { ...BLANK, type: 'run', repos_found: run.found, repos_checked: run.dirs.length, br_installed: 'br' in run.tools, bv_installed: 'bv' in run.tools },
  }];
  if (run.find.rc === 124) warnings.push(`finding the repositories with .beads was cut short after ${opts.findTimeoutSeconds}s (the repos collector's discovery_timeout_seconds); some may be missing`);
  else if (run.find.stderr.trim()) warnings.push(`finding the repositories with .beads: ${excerpt(run.find.stderr.trim().split('\n')[0]!, 200)}`);
  if (run.found > run.dirs.length) warnings.push(`found ${run.found} repositories with .beads; checked the first ${run.dirs.length} (max_repos = ${opts.maxRepos})`);
  const unreadable: StepError[] = [];
  let read = 0;
  let notRun = 0;
  for (const d of run.dirs) {
    const r = repoItems(d, { titles: opts.titles });
    items.push(...r.items);
    unreadable.push(...r.unreadable);
    read += r.read;
    notRun += d.notRun.length;
  }
  if (notRun) warnings.push(`${notRun} command(s) not started: the run's time was up (a lower bv_timeout_seconds or max_repos makes room)`);
  if (unreadable.length && read === 0) throw new Error(unreadable.length === 1 ? unreadable[0]!.message : `${unreadable[0]!.message} (and ${unreadable.length - 1} more command(s) that could not be read)`);
  if (unreadable.length) warnings.push(`${unreadable.length} command(s) printed what vc could not read, e.g. ${unreadable[0]!.message}`);
  return { items, warnings };
}

export const beadsCollector: CollectorDef = {
  name: 'beads',
  version: '1.0.0',
  schemaVersion: 1,
  schema: beadsSchema,
  async collect(ctx) {
    const settings = ctx.config.collectors.beads;
    const repos = ctx.config.collectors.repos;
    const timeLeft = ctx.timeLeftMs() / 1000;
    const findTimeoutSeconds = Math.max(1, Math.min(repos.discovery_timeout_seconds, Math.floor(timeLeft / 4)));
    const run = await runToolInDirs(ctx, ['br', 'bv'], beadsSteps(settings), {
      find: findSnippet(repos),
      findTimeoutSeconds,
      maxDirs: settings.max_repos,
      // Room after the last step for sending and parsing the answers.
      budgetSeconds: Math.max(1, timeLeft - 5),
      maxBytes: Math.floor(ctx.limits.maxBytes * 0.9),
    });
    if ('absent' in run) return { items: [], absent: run.absent };
    const { items, warnings } = beadsItems(run, { titles: settings.titles, maxRepos: settings.max_repos, findTimeoutSeconds });
    for (const w of warnings) ctx.warn(w);
    return { items };
  },
};
