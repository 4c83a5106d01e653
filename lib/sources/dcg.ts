// dcg (destructive_command_guard): the commands its hook judged, from its two event stores
// (../shared/upstream/dcg.md):
//   - pending_exceptions.jsonl in dcg's config dir: one record per DENIED command for 24 h, written
//     on every deny (on by default). dcg rewrites it in place (expired and consumed records) and a
//     newer dcg rotates its oldest half into pending_exceptions.jsonl.1, so it is tailed (lib/tail.ts:
//     truncation and rewrites are read again from the start; a torn last line waits for its newline)
//     and each record is keyed by its full_hash, so a re-read never counts twice;
//   - the history DB (only with `[history] enabled = true`), through `dcg history export --format
//     jsonl --since <cursor>`: every judged command (allow, deny, warn, bypass), newest first, no row
//     id. Pages of --limit rows go back in time with --until; the cursor says which range is left.
// No command text is stored: a command is its SHA-256 (`command_hash`, of the redacted text, as the
// history DB computes its own command_hash) and a pending record also its full_hash. dcg records no
// severity: the views derive it from the rule id (views/v1/22_dcg.sql).
//
// Each item also carries `rule_first_seen_at`: the earliest event of its rule this collector has
// seen on the machine (kept in the cursor), so the views can tell a rule new to a machine without
// reading all of its history.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CollectContext, CollectorDef, Item } from '../collector.ts';
import type { TailCursors, TailFile } from '../tail.ts';
import { parseObject, tailLogs } from './logtail.ts';
import { excerpt, isoTime, runTool, validate, type StepResult } from './toolrun.ts';

const text = z.string().nullable();
const time = z.iso.datetime().nullable();
const HEX64 = /^[0-9a-f]{64}$/;

export const dcgSchema = z.strictObject({
  /** history: a row of dcg's history DB; pending: a record of pending_exceptions.jsonl (a deny). */
  type: z.enum(['history', 'pending']),
  /** When dcg judged the command (history: milliseconds; pending: seconds). */
  ts: z.iso.datetime(),
  /** allow | deny | warn | bypass (history); deny (pending). */
  outcome: z.string().min(1).max(32),
  /** "<pack_id>:<pattern_name>"; pending: the part of the reason before " - ". */
  rule_id: text,
  pack_id: text,
  pattern_name: text,
  /** The earliest event of this rule the collector has seen on this machine (this one included). */
  rule_first_seen_at: time,
  /** pending: dcg's reason text (after the rule id). */
  reason: text,
  cwd: text,
  /** SHA-256 hex of the command as dcg stored it redacted (history `command`, pending `command_redacted`). */
  command_hash: z.string().regex(HEX64).nullable(),
  /** history: claude_code, ...; the hook's session (one per command); microseconds dcg took. */
  agent_type: text,
  session_id: text,
  eval_duration_us: z.number().int().nonnegative().nullable(),
  /** history: project | user | system when an allowlist let the command through. */
  allowlist_layer: text,
  exit_code: z.number().int().nullable(),
  bypass_code: text,
  /** pending: dcg's own key of the record (SHA-256 of time, cwd and raw command). */
  full_hash: z.string().regex(HEX64).nullable(),
  /** pending: the code a user types for `dcg allow-once` (5 digits in v0.4.1, 6 later). */
  short_code: text,
  expires_at: time,
  /** pending: when an allow-once grant used the record. */
  consumed_at: time,
  /** pending: what matched (Pack, HeredocAst, ConfigOverride, LegacyPattern). */
  match_source: text,
  /** pending: the record's schema_version. */
  record_version: z.number().int().nullable(),
});

export type DcgItem = z.infer<typeof dcgSchema>;

const BLANK: Omit<DcgItem, 'type' | 'ts' | 'outcome'> = {
  rule_id: null, pack_id: null, pattern_name: null, rule_first_seen_at: null, reason: null, cwd: null, command_hash: null,
  agent_type: null, session_id: null, eval_duration_us: null, allowlist_layer: null, exit_code: null, bypass_code: null,
  full_hash: null, short_code: null, expires_at: null, consumed_at: null, match_source: null, record_version: null,
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const cut = (s: string | null | undefined, n: number) => (typeof s === 'string' ? s.slice(0, n) : null);
/** A rule id as dcg writes it: pack and pattern names are plain words. */
const RULE = /^([A-Za-z0-9_.-]{1,80}):([A-Za-z0-9_.-]{1,120})$/;

// ---- history export --------------------------------------------------------------------------

/** One line of `dcg history export --format jsonl` (CommandEntry, dcg.md §2.1): what vc reads, others allowed. */
const historyLine = z.looseObject({
  timestamp: z.string(),
  agent_type: z.string(),
  working_dir: z.string(),
  command: z.string(),
  // allow | deny | warn | bypass today; a later dcg's new outcome is kept as it is.
  outcome: z.string().min(1).max(32),
  pack_id: z.string().nullish(),
  pattern_name: z.string().nullish(),
  rule_id: z.string().nullish(),
  eval_duration_us: z.number().int().nonnegative(),
  session_id: z.string().nullish(),
  exit_code: z.number().int().nullish(),
  allowlist_layer: z.string().nullish(),
  bypass_code: z.string().nullish(),
});

export type HistoryPage =
  /** dcg could not open its history DB (disabled, unreadable): it says so on stdout and exits 0. */
  | { unavailable: string }
  | { items: Item[]; rows: number; oldest: string | null; newest: string | null };

const DB_ERROR = 'Error opening history database:';

/** Items from one run of `dcg history export --format jsonl` (its stdout, stderr and exit status). */
export function historyItems(step: StepResult, what = 'dcg history export'): HistoryPage {
  if (step.rc === 124) throw new Error(`${what} did not answer in time and was stopped`);
  if (step.rc !== 0) {
    const said = step.stderr.trim() ? `: ${excerpt(step.stderr.trim().split('\n').slice(0, 2).join(' '))}` : '';
    throw new Error(`${what} exited ${step.rc ?? '(killed)'}${said}`);
  }
  const lines = step.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length >= 1 && lines[0]!.startsWith(DB_ERROR)) return { unavailable: lines.join(' ').slice(0, 300) };
  const items: Item[] = [];
  let oldest: string | null = null;
  let newest: string | null = null;
  lines.forEach((line, i) => {
    let value: unknown;
    try {
      value = line.trimStart().startsWith('{') ? JSON.parse(line) : undefined;
    } catch { /* said below */ }
    if (value === undefined) throw new Error(`${what} did not print JSON lines: line ${i + 1} is ${excerpt(line)}`);
    const row = validate(historyLine, value, `${what} (line ${i + 1})`);
    const ts = isoTime(row.timestamp);
    if (!ts) throw new Error(`${what} printed a line with a timestamp that is not a time (line ${i + 1}): ${excerpt(row.timestamp)}`);
    const rule = row.rule_id ?? (row.pack_id && row.pattern_name ? `${row.pack_id}:${row.pattern_name}` : null);
    items.push({
      kind: 'event',
      // The export has no row id: the row's own fields are its identity.
      key: `h:${sha256([row.timestamp, row.working_dir, row.command, row.outcome, row.session_id ?? '', rule ?? ''].join('\n')).slice(0, 32)}`,
      data: {
        ...BLANK, type: 'history', ts, outcome: row.outcome, rule_id: cut(rule, 200), pack_id: cut(row.pack_id, 80),
        pattern_name: cut(row.pattern_name, 120), cwd: cut(row.working_dir, 1000), command_hash: sha256(row.command),
        agent_type: cut(row.agent_type, 40), session_id: cut(row.session_id, 80), eval_duration_us: row.eval_duration_us,
        allowlist_layer: cut(row.allowlist_layer, 40), exit_code: row.exit_code ?? null, bypass_code: cut(row.bypass_code, 40),
      } satisfies DcgItem,
    });
    if (oldest === null || ts < oldest) oldest = ts;
    if (newest === null || ts > newest) newest = ts;
  });
  return { items, rows: lines.length, oldest, newest };
}

// ---- pending_exceptions.jsonl ----------------------------------------------------------------

/** A record of pending_exceptions.jsonl (PendingExceptionRecord, dcg.md §2.4). */
const pendingRecord = z.looseObject({
  schema_version: z.number().int(),
  short_code: z.string().max(20),
  full_hash: z.string().regex(HEX64),
  created_at: z.string(),
  expires_at: z.string(),
  cwd: z.string(),
  command_redacted: z.string(),
  reason: z.string(),
  consumed_at: z.string().nullable(),
  source: z.string().nullish(),
});

/**
 * The item a line of pending_exceptions.jsonl holds, or why it holds none. dcg itself skips lines
 * it cannot parse (a torn write) and counts them: so does this.
 */
export function pendingFact(line: string): DcgItem | string {
  const o = parseObject(line);
  if (!o) return 'not a JSON object (dcg counts these as parse errors)';
  const r = pendingRecord.safeParse(o);
  if (!r.success) return 'not a dcg pending-exception record';
  const ts = isoTime(r.data.created_at);
  if (!ts) return 'a pending-exception record without a valid created_at';
  // The hook writes "<pack_id>:<pattern_name> - <reason>" when it knows the rule.
  const dash = r.data.reason.indexOf(' - ');
  const rule = dash > 0 ? RULE.exec(r.data.reason.slice(0, dash)) : null;
  return {
    ...BLANK, type: 'pending', ts, outcome: 'deny',
    rule_id: rule ? rule[0] : null, pack_id: rule ? rule[1]! : null, pattern_name: rule ? rule[2]! : null,
    reason: (rule ? r.data.reason.slice(dash + 3) : r.data.reason).slice(0, 500),
    cwd: r.data.cwd.slice(0, 1000), command_hash: sha256(r.data.command_redacted), full_hash: r.data.full_hash,
    short_code: r.data.short_code, expires_at: isoTime(r.data.expires_at), consumed_at: isoTime(r.data.consumed_at),
    match_source: cut(r.data.source, 40), record_version: r.data.schema_version,
  };
}

// ---- the collector's cursor ------------------------------------------------------------------

/** Which part of the history is read: rows in [since, until) are not yet (until null: none above). */
export interface HistoryRange {
  since: string;
  until: string | null;
  /** The newest row stored: once the range is read, the next one starts there. */
  newest: string | null;
}

export interface DcgCursor {
  /** Tail cursors of the pending_exceptions files. */
  pending: TailCursors;
  /**
   * Pending records already stored, by the start of their full_hash: "<expires_at>|<0|1 consumed>".
   * A rewrite makes dcg's file read again from its start: only what changed is stored again.
   */
  seen: Record<string, string>;
  /** Earliest event per rule id on this machine. */
  rules: Record<string, string>;
  history: HistoryRange | null;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const cursorSchema = z.object({
  pending: z.record(z.string(), z.unknown()).default({}),
  seen: z.record(z.string(), z.string()).default({}),
  rules: z.record(z.string(), z.string().regex(ISO_MS)).default({}),
  history: z.object({ since: z.string().regex(ISO_MS), until: z.string().regex(ISO_MS).nullable(), newest: z.string().regex(ISO_MS).nullable() }).nullable().default(null),
});

/** The saved cursor, or a fresh one (with a warning when what was saved is not a cursor of this shape). */
export function dcgCursorFrom(saved: unknown, warn: (m: string) => void): DcgCursor {
  if (saved === null || saved === undefined) return { pending: {}, seen: {}, rules: {}, history: null };
  const r = cursorSchema.safeParse(saved);
  if (r.success) return { ...r.data, pending: r.data.pending as TailCursors };
  warn('the saved dcg cursor is not of the expected shape: the pending files and the history are read from their start (stored events are not stored twice)');
  return { pending: {}, seen: {}, rules: {}, history: null };
}

/**
 * Pending records expire after 24 h; what is remembered of them is kept a day longer than the
 * newest record's expiry, then dropped (times of the machine's own clock, not vc's).
 */
const SEEN_KEEP_MS = 48 * 3600_000;
const SEEN_KEY = 16;

export function pruneSeen(seen: Record<string, string>): void {
  const expiry = (v: string) => Date.parse(v.split('|')[0]!);
  const newest = Math.max(...Object.values(seen).map(expiry).filter(Number.isFinite));
  for (const [k, v] of Object.entries(seen)) {
    if (!(expiry(v) >= newest - SEEN_KEEP_MS)) delete seen[k];
  }
}

/** Stamps each item with the earliest time of its rule, after adding the items' own times. */
export function stampRules(items: Item[], rules: Record<string, string>): void {
  const data = items.map((i) => i.data as DcgItem);
  for (const d of data) if (d.rule_id && (!rules[d.rule_id] || d.ts < rules[d.rule_id]!)) rules[d.rule_id] = d.ts;
  for (const d of data) if (d.rule_id) d.rule_first_seen_at = rules[d.rule_id]!;
}

/** The pending items of a file's new lines that are not stored yet in this state (consumed or not). */
export function pendingItems(file: TailFile, state: DcgCursor, skip: (reason: string) => void): Item[] {
  const items: Item[] = [];
  for (const line of file.lines) {
    const f = pendingFact(line.text);
    if (typeof f === 'string') {
      skip(`${f} (${file.path})`);
      continue;
    }
    const k = f.full_hash!.slice(0, SEEN_KEY);
    const mark = `${f.expires_at ?? f.ts}|${f.consumed_at ? 1 : 0}`;
    if (state.seen[k] === mark) continue;
    state.seen[k] = mark;
    items.push({ kind: 'event', key: `p:${f.full_hash}`, data: f });
  }
  stampRules(items, state.rules);
  return items;
}

// ---- collection --------------------------------------------------------------------------------

/** Share of the run's timeout the history pages may use before the rest is left to the next run. */
const CATCH_UP_SHARE = 0.6;
const PLAIN_TIME = /^[0-9TZ:.-]+$/;

/**
 * The export step for a range: its output is cut at `budget` + 1 bytes (a page of long commands,
 * heredocs, must not flood the output cap), keeping dcg's own exit status. Times are ISO strings
 * vc made, checked plain.
 */
export function exportCommand(range: HistoryRange, limit: number, budget: number): string {
  for (const t of [range.since, range.until]) if (t !== null && !PLAIN_TIME.test(t)) throw new Error(`not a plain time: ${JSON.stringify(t)}`);
  const args = `--format jsonl --since ${range.since}${range.until ? ` --until ${range.until}` : ''} --limit ${Math.trunc(limit)}`;
  return `vc_rc=$(mktemp) || exit 1
{ "$VC_TOOL" history export ${args}; echo "$?" > "$vc_rc"; } | head -c ${Math.trunc(budget) + 1}
vc_r=$(cat "$vc_rc" 2>/dev/null); rm -f "$vc_rc"; exit "\${vc_r:-1}"`;
}

/**
 * A page of the export: its rows, and whether more may be left below its oldest row (a full page,
 * or one cut at the byte budget: its last, partial line is dropped).
 */
export function historyPage(step: StepResult, limit: number, budget: number): HistoryPage & { full?: boolean } {
  const cut = Buffer.byteLength(step.stdout) > budget;
  if (!cut) {
    const page = historyItems(step);
    return 'unavailable' in page ? page : { ...page, full: page.rows >= limit };
  }
  // dcg was stopped by the cut (SIGPIPE): its status says nothing about the rows printed before.
  const page = historyItems({ ...step, stdout: step.stdout.slice(0, step.stdout.lastIndexOf('\n') + 1), rc: step.rc !== null && step.rc > 128 ? 0 : step.rc });
  if ('items' in page && page.rows === 0) throw new Error(`dcg history export printed a row of more than ${budget} bytes`);
  return { ...page, full: true };
}

const plusMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/**
 * Reads the history's unread range page by page, newest first, committing each page with the range
 * that is left; then, once a backlog is read, what came since. Returns why there is nothing to
 * read when dcg is not installed.
 */
async function readHistory(ctx: CollectContext, state: DcgCursor, save: (items: Item[]) => Promise<void>): Promise<string | null> {
  const cfg = ctx.config.collectors.dcg;
  const stopAt = ctx.timeLeftMs() * (1 - CATCH_UP_SHARE);
  let range: HistoryRange = state.history ?? { since: new Date(Date.now() - cfg.history_days * 86400_000).toISOString(), until: null, newest: null };
  let headRead = false;
  // What a page may print: most of the output cap (the rest is the script's framing and stderr).
  const budget = Math.floor(ctx.limits.maxBytes * 0.75);
  for (let page = 1; ; page++) {
    const run = await runTool(ctx, ['dcg'], [{ name: 'export', run: exportCommand(range, cfg.history_page_rows, budget), timeoutSeconds: cfg.step_timeout_seconds }]);
    if ('absent' in run) return run.absent;
    const res = historyPage(run.steps.export!, cfg.history_page_rows, budget);
    if ('unavailable' in res) {
      ctx.warn(`dcg's history is not read here (${res.unavailable}): only denies are collected, from pending_exceptions.jsonl`);
      return null;
    }
    stampRules(res.items, state.rules);
    const newest = later(range.newest, res.newest);
    if (!res.full) {
      // The range is read: rows up to `newest` are stored; later ones are the next range.
      const wasBacklog = range.until !== null;
      headRead ||= !wasBacklog;
      range = { since: newest ?? range.since, until: null, newest };
      state.history = range;
      await save(res.items);
      if (headRead) return null;
    } else {
      // A full page: rows at and above its oldest millisecond are stored; below is left.
      let until = plusMs(res.oldest!, 1);
      if (range.until !== null && until >= range.until) {
        ctx.warn(`more dcg history rows share the millisecond ${res.oldest} than a page holds: the rest of them are not read`);
        until = res.oldest!;
      }
      range = { since: range.since, until, newest };
      state.history = range;
      await save(res.items);
    }
    if (ctx.timeLeftMs() < stopAt) {
      ctx.warn(`read dcg's history partly (${page} page${page === 1 ? '' : 's'} this run): the next run reads on from here`);
      return null;
    }
  }
}

export const dcgCollector: CollectorDef = {
  name: 'dcg',
  version: '1.0.0',
  schemaVersion: 1,
  schema: dcgSchema,
  async collect(ctx) {
    const cfg = ctx.config.collectors.dcg;
    const state = dcgCursorFrom(ctx.cursor, ctx.warn);
    pruneSeen(state.seen);
    const snapshot = (): DcgCursor => ({ ...state, seen: { ...state.seen }, rules: { ...state.rules } });
    const save = (items: Item[]) => ctx.commit(items, snapshot());
    // The pending files, through the shared tail reader: its cursor is one part of ours.
    const tailCtx: CollectContext = {
      ...ctx,
      cursor: state.pending,
      commit: async (items, cursor) => {
        if (cursor !== undefined) state.pending = cursor as TailCursors;
        await save(items);
      },
    };
    const pending = await tailLogs(tailCtx, {
      what: 'read dcg\'s pending_exceptions.jsonl',
      // The file and the one a newer dcg rotates its oldest records into (append-only).
      trees: ['pending_exceptions.jsonl', 'pending_exceptions.jsonl.1'].map((name) => ({ root: cfg.dir, name, maxDepth: 1 })),
      toItems: (file, skip) => pendingItems(file, state, skip),
      absent: `no dcg config dir here (${cfg.dir})`,
    });
    if (pending.cursor !== undefined) state.pending = pending.cursor as TailCursors;
    const noTool = cfg.history ? await readHistory(ctx, state, save) : 'its history is not read here ([collectors.dcg] history = false)';
    if (noTool !== null && pending.absent !== undefined) return { items: [], cursor: snapshot(), absent: `nothing of dcg here: ${pending.absent}; ${noTool}` };
    if (noTool !== null && cfg.history) ctx.warn(`${noTool}: its history is not read, only its pending_exceptions.jsonl`);
    return { items: [], cursor: snapshot() };
  },
};
