// The synthetic agent-log generator (fixtures/agent-logs.ts): deterministic, every line in the
// documented shape, a truth that an independent reader of the files (written here from the
// upstream doc's rules) reproduces, and ccusage 18 agreeing with it exactly where the doc says it
// should (clean logs) and departing from it exactly as its own rules predict (full logs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  writeAgentLogs, type ClaudeTokens, type CodexTokens, type GeminiTokens, type Truth, type TruthDay,
} from '../fixtures/agent-logs.ts';
import { ccusageBin, ccusageDaily, type CcusageDay } from './ccusage.ts';
import { tmpDir } from './helpers.ts';

const END = new Date('2026-05-04T13:37:00.000Z');
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CCUSAGE_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function generate(opts: { seed: number; clean?: boolean; mb?: number; days?: number }): { home: string; truth: Truth } {
  const home = path.join(tmpDir('vc-agent-logs-'), 'home');
  const truth = writeAgentLogs(home, { seed: opts.seed, end: END, days: opts.days ?? 4, targetBytes: (opts.mb ?? 2) * 1024 * 1024, clean: opts.clean });
  return { home, truth };
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out.sort();
}

type Json = Record<string, any>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

// ------------------------------------------------------------------------------------------------
// An independent reader of the files, from the doc's rules (not from the generator's records).

interface Lines { whole: string[]; tail: string }
function lines(text: string): Lines {
  const parts = text.split('\n');
  return { whole: parts.slice(0, -1), tail: parts[parts.length - 1]! };
}
function tryParse(s: string): Json | undefined {
  try { const v = JSON.parse(s); return isObj(v) ? v : undefined; } catch { return undefined; }
}
function dayOf(byDay: Map<string, TruthDay>, day: string): TruthDay {
  let d = byDay.get(day);
  if (!d) { d = { claude: {}, codex: {}, gemini: {} }; byDay.set(day, d); }
  return d;
}

function readTruth(home: string): { byDay: Record<string, TruthDay> } {
  const files = walk(home);
  const byDay = new Map<string, TruthDay>();

  // Claude
  interface L { msgId?: string; reqId?: string; side: boolean; model: string; ts: string; u: Json; total: number; fast: boolean }
  const all: L[] = [];
  for (const f of files.filter((f) => /^(\.claude|\.config\/claude)\/projects\/.+\.jsonl$/.test(f))) {
    for (const s of lines(fs.readFileSync(path.join(home, f), 'utf8')).whole) {
      const o = tryParse(s);
      const u = o?.message?.usage;
      if (!o || !isObj(u) || typeof u.input_tokens !== 'number' || typeof u.output_tokens !== 'number') continue;
      if (typeof o.timestamp !== 'string' || !CCUSAGE_TS.test(o.timestamp)) continue;
      if (o.message.model === '<synthetic>' || o.isApiErrorMessage === true) continue;
      const total = u.input_tokens + u.output_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
      all.push({ msgId: o.message.id, reqId: o.requestId, side: o.isSidechain === true, model: o.message.model ?? 'unknown', ts: o.timestamp, u, total, fast: u.speed === 'fast' });
    }
  }
  const winners: L[] = all.filter((x) => x.msgId === undefined);
  const byMsg = new Map<string, L[]>();
  for (const x of all) if (x.msgId !== undefined) byMsg.set(x.msgId, [...(byMsg.get(x.msgId) ?? []), x]);
  for (const [id, list] of byMsg) {
    const main = list.filter((x) => !x.side);
    const byKey = new Map<string, L>();
    for (const x of main.length ? main : list) {
      const key = x.reqId ? `${id}:${x.reqId}` : id;
      const cur = byKey.get(key);
      if (!cur || x.total > cur.total || (x.total === cur.total && x.fast && !cur.fast)) byKey.set(key, x);
    }
    winners.push(...byKey.values());
  }
  for (const x of winners) {
    const t: ClaudeTokens = dayOf(byDay, x.ts.slice(0, 10)).claude[x.model] ??= { input: 0, output: 0, cache_creation_5m: 0, cache_creation_1h: 0, cache_read: 0, entries: 0, fast_entries: 0 };
    const cc = x.u.cache_creation_input_tokens ?? 0;
    t.input += x.u.input_tokens;
    t.output += x.u.output_tokens;
    t.cache_creation_5m += isObj(x.u.cache_creation) ? x.u.cache_creation.ephemeral_5m_input_tokens : cc;
    t.cache_creation_1h += isObj(x.u.cache_creation) ? x.u.cache_creation.ephemeral_1h_input_tokens : 0;
    t.cache_read += x.u.cache_read_input_tokens ?? 0;
    t.entries++;
    if (x.fast) t.fast_entries++;
  }

  // Codex
  const seen = new Set<string>();
  const norm = (u: Json) => {
    const cached = u.cached_input_tokens ?? u.cache_read_input_tokens ?? 0;
    return [u.input_tokens, cached, u.output_tokens, u.reasoning_output_tokens ?? 0, u.total_tokens ?? u.input_tokens + u.output_tokens] as number[];
  };
  for (const f of files.filter((f) => /^\.codex\/(sessions|archived_sessions)\/.*rollout-.*\.jsonl$/.test(f))) {
    let prev: number[] | undefined;
    let model: string | undefined;
    for (const s of lines(fs.readFileSync(path.join(home, f), 'utf8')).whole) {
      const o = tryParse(s);
      if (!o) continue;
      if (o.type === 'turn_context') { if (typeof o.payload?.model === 'string') model = o.payload.model; continue; }
      if (o.type !== 'event_msg' || o.payload?.type !== 'token_count' || !isObj(o.payload.info)) continue;
      const info = o.payload.info;
      const total = norm(info.total_token_usage);
      if (prev && total.every((v, i) => v === prev![i])) continue;
      const diff = total.map((v, i) => Math.max(0, v - (prev?.[i] ?? 0)));
      const last = isObj(info.last_token_usage) ? norm(info.last_token_usage) : undefined;
      const d = last && last.every((v, i) => v === diff[i]) ? last : diff;
      prev = total;
      if (d.every((v) => v === 0)) continue;
      const own = info.model ?? o.payload.model;
      const m = own ?? model ?? 'gpt-5';
      const key = [o.timestamp, m, ...d].join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      const t: CodexTokens = dayOf(byDay, o.timestamp.slice(0, 10)).codex[m] ??= { input: 0, cached_input: 0, output: 0, reasoning: 0, entries: 0, fallback_entries: 0 };
      t.input += d[0]!; t.cached_input += d[1]!; t.output += d[2]!; t.reasoning += d[3]!; t.entries++;
      if (!own && !model) t.fallback_entries++;
    }
  }

  // Gemini
  const last = new Map<string, Json>();
  for (const f of files.filter((f) => /^\.gemini\/tmp\/[^/]+\/chats\//.test(f))) {
    const text = fs.readFileSync(path.join(home, f), 'utf8');
    const records = f.endsWith('.json') ? (JSON.parse(text).messages as Json[]) : lines(text).whole.map(tryParse).filter((x): x is Json => !!x);
    for (const r of records) if (typeof r.id === 'string' && typeof r.type === 'string') last.set(r.id, r);
  }
  for (const r of last.values()) {
    if (r.type !== 'gemini' || !isObj(r.tokens)) continue;
    const t: GeminiTokens = dayOf(byDay, r.timestamp.slice(0, 10)).gemini[r.model ?? 'unknown'] ??= { input: 0, cached: 0, output: 0, thoughts: 0, tool: 0, entries: 0 };
    t.input += r.tokens.input; t.cached += r.tokens.cached; t.output += r.tokens.output;
    t.thoughts += r.tokens.thoughts; t.tool += r.tokens.tool; t.entries++;
  }

  const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  const out: Record<string, TruthDay> = {};
  for (const day of [...byDay.keys()].sort()) {
    const d = byDay.get(day)!;
    out[day] = { claude: sorted(d.claude), codex: sorted(d.codex), gemini: sorted(d.gemini) };
  }
  return { byDay: out };
}

// ------------------------------------------------------------------------------------------------
// Shape checks of every line

function checkShapes(home: string, truth: Truth): Record<string, number> {
  const broken = new Map(truth.broken.map((b) => [`${b.file}#${b.line}`, b.kind]));
  const start = Date.parse(truth.window.start);
  const end = Date.parse(truth.window.end);
  const inWindow = (ts: unknown, where: string) => {
    assert.ok(typeof ts === 'string' && TS.test(ts), `${where}: timestamp ${String(ts)}`);
    const t = Date.parse(ts);
    assert.ok(t >= start && t <= end, `${where}: ${ts} outside the window`);
  };
  const seen: Record<string, number> = {};
  const count = (k: string) => { seen[k] = (seen[k] ?? 0) + 1; };
  for (const f of walk(home)) {
    const text = fs.readFileSync(path.join(home, f), 'utf8');
    if (f.startsWith('.gemini/') && f.endsWith('.json')) {
      const o = JSON.parse(text) as Json;
      assert.match(f, /^\.gemini\/tmp\/[0-9a-f]{64}\/chats\/session-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-[0-9a-f]{8}\.json$/);
      assert.ok(UUID.test(o.sessionId) && /^[0-9a-f]{64}$/.test(o.projectHash) && Array.isArray(o.messages), f);
      for (const m of o.messages as Json[]) { inWindow(m.timestamp, f); assert.ok(UUID.test(m.id)); }
      count('gemini:legacy-json');
      continue;
    }
    assert.ok(f.endsWith('.jsonl'), `unexpected file ${f}`);
    const { whole, tail } = lines(text);
    if (tail !== '') {
      assert.equal(broken.get(`${f}#${whole.length + 1}`), 'partial', `${f} ends without a newline`);
      assert.equal(tryParse(tail), undefined, 'the partial last line is cut JSON');
      count('partial');
    }
    whole.forEach((s, i) => {
      const where = `${f}:${i + 1}`;
      const kind = broken.get(`${f}#${i + 1}`);
      if (kind === 'not-json') { assert.throws(() => JSON.parse(s), where); count('not-json'); return; }
      const o = JSON.parse(s) as Json;
      assert.ok(isObj(o), where);
      if (kind === 'bad-schema') { assert.ok(o.message?.usage && !CCUSAGE_TS.test(o.timestamp), where); count('bad-schema'); return; }
      if (f.startsWith('.claude/') || f.startsWith('.config/claude/')) checkClaude(f, o, where, inWindow, count);
      else if (f.startsWith('.codex/')) checkCodex(f, i, o, where, inWindow, count);
      else checkGemini(f, i, o, where, inWindow, count);
    });
  }
  return seen;
}

function checkClaude(f: string, o: Json, where: string, inWindow: (ts: unknown, w: string) => void, count: (k: string) => void): void {
  const m = /^(\.claude|\.config\/claude)\/projects\/([^/]+)\/([0-9a-f-]{36})(?:\.jsonl|\/subagents\/agent-[\w-]+\.jsonl)$/.exec(f);
  assert.ok(m, `Claude path ${f}`);
  const sub = f.includes('/subagents/');
  const types = ['user', 'assistant', 'system', 'summary', 'file-history-snapshot', 'queue-operation', 'progress', 'permission-mode'];
  assert.ok(types.includes(o.type), `${where}: type ${o.type}`);
  count(`claude:${o.type}`);
  if (o.type === 'summary') { assert.ok(typeof o.summary === 'string' && UUID.test(o.leafUuid), where); return; }
  if (o.type === 'file-history-snapshot') { assert.ok(UUID.test(o.messageId) && isObj(o.snapshot), where); inWindow(o.snapshot.timestamp, where); return; }
  if (o.type === 'queue-operation') { inWindow(o.timestamp, where); assert.ok(UUID.test(o.sessionId), where); return; }
  if (o.type === 'permission-mode') { assert.ok(typeof o.permissionMode === 'string', where); return; }
  inWindow(o.timestamp, where);
  assert.ok(UUID.test(o.uuid) && UUID.test(o.sessionId), `${where}: uuid/sessionId`);
  assert.ok(o.parentUuid === null || UUID.test(o.parentUuid), `${where}: parentUuid`);
  assert.equal(typeof o.isSidechain, 'boolean', where);
  assert.equal(o.isSidechain, sub, `${where}: isSidechain iff under subagents/`);
  if (sub) assert.equal(o.sessionId, m![3], `${where}: a subagent line carries its parent session's id`);
  assert.equal(o.userType, 'external');
  assert.equal(o.cwd.replace(/[^A-Za-z0-9]/g, '-'), m![2], `${where}: project dir is the encoded cwd`);
  assert.match(o.version, /^\d+\.\d+\.\d+$/);
  if (o.type === 'user') {
    assert.equal(o.message.role, 'user');
    if (Array.isArray(o.message.content)) {
      const r = o.message.content[0];
      assert.ok(r.type === 'tool_result' && /^toolu_01/.test(r.tool_use_id) && typeof r.content === 'string' && isObj(o.toolUseResult), where);
      count('claude:tool_result');
    } else assert.equal(typeof o.message.content, 'string', where);
  }
  if (o.type === 'assistant') {
    const msg = o.message;
    assert.ok(msg.id === undefined || typeof msg.id === 'string', where);
    if (msg.id === undefined) count('claude:no-message-id');
    assert.ok(o.requestId === undefined || /^req_011C[A-Za-z0-9]{20}$/.test(o.requestId), `${where}: requestId`);
    if (o.requestId === undefined) count('claude:no-request-id');
    assert.equal(msg.role, 'assistant');
    assert.ok(Array.isArray(msg.content) && msg.content.length > 0, where);
    const u = msg.usage;
    for (const k of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']) assert.ok(isInt(u[k]), `${where}: ${k}`);
    if (u.cache_creation !== undefined) {
      assert.equal(u.cache_creation.ephemeral_5m_input_tokens + u.cache_creation.ephemeral_1h_input_tokens, u.cache_creation_input_tokens, `${where}: 5m + 1h = cache_creation`);
      count('claude:split');
    } else count('claude:no-split');
    assert.ok(u.speed === undefined || u.speed === 'fast', where);
    if (u.speed === 'fast') count('claude:fast');
    const models = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001', 'claude-opus-4-5-20251101', 'claude-experimental-x', '<synthetic>'];
    assert.ok(models.includes(msg.model), `${where}: model ${msg.model}`);
    count(`claude:model:${msg.model}`);
    if (o.isApiErrorMessage === true) count('claude:api-error');
    const d = new Date(o.timestamp);
    if (d.getUTCHours() === 23 && d.getUTCMinutes() >= 55 || d.getUTCHours() === 0 && d.getUTCMinutes() < 5) count('claude:near-midnight');
  }
  if (o.type === 'progress') { assert.ok(isObj(o.data?.message?.message?.usage), where); }
}

function checkCodex(f: string, i: number, o: Json, where: string, inWindow: (ts: unknown, w: string) => void, count: (k: string) => void): void {
  const m = /^\.codex\/(?:sessions\/(\d{4})\/(\d{2})\/(\d{2})|archived_sessions)\/rollout-(\d{4}-\d{2}-\d{2})T(\d{2}-\d{2}-\d{2})-([0-9a-f-]{36})\.jsonl$/.exec(f);
  assert.ok(m, `Codex path ${f}`);
  inWindow(o.timestamp, where);
  assert.ok(['session_meta', 'turn_context', 'response_item', 'event_msg', 'compacted'].includes(o.type), `${where}: type ${o.type}`);
  assert.ok(isObj(o.payload), where);
  if (i === 0) {
    assert.equal(o.type, 'session_meta', `${where}: session_meta first`);
    const p = o.payload;
    assert.equal(p.id, m![6], `${where}: file name carries the session id`);
    assert.equal(`${p.timestamp.slice(0, 10)}T${p.timestamp.slice(11, 19).replace(/:/g, '-')}`, `${m![4]}T${m![5]}`, `${where}: file name carries the start`);
    if (m![1]) assert.equal(`${m![1]}-${m![2]}-${m![3]}`, m![4], `${where}: folder is the start date`);
    assert.ok(typeof p.cwd === 'string' && p.originator === 'codex_cli_rs' && typeof p.cli_version === 'string' && p.source === 'cli', where);
    if (p.forked_from_id) count('codex:forked');
    if (f.includes('archived_sessions')) count('codex:archived');
    const day = o.timestamp.slice(0, 10);
    count(`codex:file:${day}`);
  }
  if (o.type === 'turn_context') {
    assert.ok(typeof o.payload.cwd === 'string' && isObj(o.payload.sandbox_policy), where);
    if (typeof o.payload.model === 'string') count(`codex:model:${o.payload.model}`); else count('codex:turn-without-model');
  }
  if (o.type === 'event_msg' && o.payload.type === 'token_count') {
    const { info, rate_limits: rl } = o.payload;
    if (info === null) count('codex:info-null');
    else {
      for (const k of ['total_token_usage', 'last_token_usage']) {
        const u = info[k];
        assert.ok(isInt(u.input_tokens) && isInt(u.output_tokens) && isInt(u.reasoning_output_tokens), `${where}: ${k}`);
        const cached = u.cached_input_tokens ?? u.cache_read_input_tokens;
        assert.ok(isInt(cached) && cached <= u.input_tokens && u.reasoning_output_tokens <= u.output_tokens, `${where}: ${k} subsets`);
        if (u.total_tokens === undefined) count('codex:no-total-tokens');
        else assert.equal(u.total_tokens, u.input_tokens + u.output_tokens, `${where}: total = input + output`);
      }
      if (info.model) count('codex:info-model');
    }
    if (rl !== null) {
      assert.ok(rl.primary.window_minutes === 300 && rl.secondary.window_minutes === 10080, where);
      for (const w of [rl.primary, rl.secondary]) assert.ok(typeof w.used_percent === 'number' && w.used_percent >= 0 && w.used_percent <= 100 && Number.isInteger(w.resets_at) && w.resets_at * 1000 > Date.parse(o.timestamp), `${where}: rate limits`);
    }
    count('codex:token_count');
  }
}

function checkGemini(f: string, i: number, o: Json, where: string, inWindow: (ts: unknown, w: string) => void, count: (k: string) => void): void {
  const m = /^\.gemini\/tmp\/([^/]+)\/chats\/(?:session-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2})-([0-9a-f]{8})|([0-9a-f-]{36})\/([0-9a-f-]{36}))\.jsonl$/.exec(f);
  assert.ok(m, `Gemini path ${f}`);
  assert.ok(/^[0-9a-f]{64}$/.test(m![1]!) || /^[a-z0-9-]+$/.test(m![1]!), `${f}: project id`);
  if (i === 0) {
    assert.ok(UUID.test(o.sessionId) && /^[0-9a-f]{64}$/.test(o.projectHash), where);
    inWindow(o.startTime, where);
    inWindow(o.lastUpdated, where);
    if (m![2]) {
      assert.equal(o.sessionId.slice(0, 8), m![3], `${where}: file name carries the session id`);
      assert.equal(`${o.startTime.slice(0, 10)}T${o.startTime.slice(11, 16).replace(':', '-')}`, m![2], `${where}: file name carries the start`);
      assert.equal(o.kind, 'main');
    } else {
      assert.equal(o.sessionId, m![5]);
      assert.equal(o.kind, 'subagent');
      count('gemini:subagent');
    }
    count(/^[0-9a-f]{64}$/.test(m![1]!) ? 'gemini:hash-project' : 'gemini:slug-project');
    return;
  }
  if ('$set' in o) { assert.ok(isObj(o.$set), where); count('gemini:$set'); return; }
  if ('$rewindTo' in o) { assert.ok(UUID.test(o.$rewindTo), where); count('gemini:$rewindTo'); return; }
  assert.ok(UUID.test(o.id), where);
  inWindow(o.timestamp, where);
  assert.ok(['user', 'info', 'error', 'warning', 'gemini'].includes(o.type), `${where}: type ${o.type}`);
  if (o.type === 'gemini') {
    assert.ok(['gemini-2.5-pro', 'gemini-2.5-flash'].includes(o.model), where);
    if (o.tokens !== undefined && o.tokens !== null) {
      const t = o.tokens;
      assert.ok([t.input, t.output, t.cached, t.thoughts, t.tool].every(isInt) && t.cached <= t.input, where);
      assert.equal(t.total, t.input + t.output + t.thoughts + t.tool, `${where}: total`);
      count('gemini:tokens');
    }
  }
}

// ------------------------------------------------------------------------------------------------

/** ccusage's per-day numbers keyed by date. */
const byDate = (rows: CcusageDay[]) => new Map(rows.map((r) => [r.date, r]));
const tokensOf = (r: { inputTokens: number; outputTokens: number; cacheCreationTokens: number; cacheReadTokens: number }) =>
  [r.inputTokens, r.outputTokens, r.cacheCreationTokens, r.cacheReadTokens];

test('same seed, same end: identical bytes and truth; another seed differs', () => {
  const digest = (home: string) => walk(home).map((f) => `${f} ${crypto.createHash('sha256').update(fs.readFileSync(path.join(home, f))).digest('hex')}`);
  const a = generate({ seed: 11, mb: 1.5 });
  const b = generate({ seed: 11, mb: 1.5 });
  assert.deepEqual(digest(b.home), digest(a.home));
  assert.deepEqual(b.truth, a.truth);
  assert.equal(JSON.stringify(b.truth), JSON.stringify(a.truth));
  const c = generate({ seed: 12, mb: 1.5 });
  assert.notDeepEqual(digest(c.home), digest(a.home));
  assert.notDeepEqual(c.truth.byDay, a.truth.byDay);
  assert.throws(() => writeAgentLogs(a.home, { seed: 11, end: END, days: 4 }), /not empty/);
});

for (const clean of [false, true]) {
  test(`${clean ? 'clean' : 'full'} mode: every line has the documented shape, and a reader of the files reproduces the truth`, () => {
    const { home, truth } = generate({ seed: 5, clean, mb: 2 });
    const seen = checkShapes(home, truth);
    const expect = (k: string, msg = k) => assert.ok((seen[k] ?? 0) > 0, `no ${msg} in the generated logs`);
    for (const k of ['partial', 'not-json', 'bad-schema', 'claude:user', 'claude:assistant', 'claude:system', 'claude:summary',
      'claude:file-history-snapshot', 'claude:tool_result', 'claude:progress', 'claude:split', 'claude:no-split', 'claude:fast',
      'claude:no-message-id', 'claude:api-error', 'claude:near-midnight', 'claude:model:<synthetic>', 'claude:model:claude-experimental-x',
      'claude:model:claude-sonnet-4-5-20250929', 'claude:model:claude-haiku-4-5-20251001',
      'codex:forked', 'codex:archived', 'codex:info-null', 'codex:info-model', 'codex:no-total-tokens', 'codex:turn-without-model',
      'codex:model:gpt-5-codex', 'gemini:legacy-json', 'gemini:subagent', 'gemini:$set', 'gemini:$rewindTo', 'gemini:tokens',
      'gemini:hash-project']) expect(k);
    if (!clean) expect('claude:no-request-id');
    // Claude wrote to both roots, and nested subagent files.
    const files = walk(home);
    assert.ok(files.some((f) => f.startsWith('.claude/projects/')) && files.some((f) => f.startsWith('.config/claude/projects/')));
    assert.ok(files.some((f) => /\/subagents\/agent-[0-9a-f]{8}\.jsonl$/.test(f)));
    // A Codex session that started before midnight and logs after it, still in its start folder.
    const crossing = files.filter((f) => f.startsWith('.codex/sessions/')).some((f) => {
      const folder = f.split('/').slice(2, 5).join('-');
      return fs.readFileSync(path.join(home, f), 'utf8').split('\n').some((l) => l.startsWith('{"timestamp":"') && l.slice(14, 24) > folder);
    });
    assert.ok(crossing, 'a Codex session runs past midnight');
    assert.ok(truth.bytes.total > 1024 * 1024 && truth.bytes.total === files.reduce((n, f) => n + fs.statSync(path.join(home, f)).size, 0));
    // The truth, recomputed from the files by the doc's rules.
    const read = readTruth(home);
    assert.deepEqual(read.byDay, truth.byDay);
    for (const agent of ['claude', 'codex', 'gemini'] as const) {
      assert.ok(truth.totals[agent].entries > 0, `${agent} has counted entries`);
      assert.ok(Object.values(truth.byDay).some((d) => Object.keys(d[agent]).length > 0));
    }
    assert.ok(truth.totals.codex.fallback_entries > 0 && (truth.byDay && Object.values(truth.byDay).some((d) => d.codex['gpt-5']?.fallback_entries)));
    if (!clean) {
      // The planted full-mode cases exist.
      for (const k of ['crossRootCopies', 'resumedCopies', 'btwFiles', 'sidechainReplayLines', 'midnightStraddle', 'tieSpeed',
        'syntheticNonZero', 'apiErrorNonZero', 'partialSnapshotMessages']) assert.ok((truth.planted[k] ?? 0) > 0, `planted ${k}`);
    }
    for (const k of ['forkedSessions', 'inconsistentLastUsage', 'reEmittedTokenCounts', 'olderStyleSessions', 'modelInInfoOnly',
      'noModelSessions', 'rewinds', 'reappendedRecords', 'legacyJsonFiles', 'subagentChats', 'taskSubagentFiles']) {
      assert.ok((truth.planted[k] ?? 0) > 0, `planted ${k}`);
    }
  });
}

test(`clean mode: ccusage ${ccusageBin().version} per-day Claude totals equal the truth's`, (t) => {
  assert.equal(ccusageBin().version, '18.0.11');
  const { home, truth } = generate({ seed: 21, clean: true, mb: 2 });
  for (const [k, v] of Object.entries(truth.ccusage18.effects)) assert.equal(v, 0, `clean mode has no ${k}`);
  const rows = ccusageDaily(home);
  const cc = byDate(rows);
  const truthDays = Object.entries(truth.byDay).filter(([, d]) => Object.keys(d.claude).length > 0).map(([day]) => day);
  for (const day of truthDays) assert.ok(cc.has(day), `ccusage has ${day}`);
  let cost = 0;
  for (const r of rows) {
    const models = truth.byDay[r.date]?.claude ?? {};
    const sum = Object.values(models).reduce((a, m) => [a[0]! + m.input, a[1]! + m.output, a[2]! + m.cache_creation_5m + m.cache_creation_1h, a[3]! + m.cache_read], [0, 0, 0, 0]);
    assert.deepEqual(tokensOf(r), sum, `${r.date}: ccusage [input, output, cache_creation, cache_read] = truth`);
    // Per model: ccusage names fast lines "<model>-fast"; the truth keeps them under the model.
    const perModel = new Map<string, number[]>();
    for (const b of r.modelBreakdowns) {
      const name = b.modelName.replace(/-fast$/, '');
      const acc = perModel.get(name) ?? [0, 0, 0, 0];
      tokensOf(b).forEach((v, i) => { acc[i]! += v; });
      perModel.set(name, acc);
    }
    for (const [name, m] of Object.entries(models)) {
      assert.deepEqual(perModel.get(name), [m.input, m.output, m.cache_creation_5m + m.cache_creation_1h, m.cache_read], `${r.date} ${name}`);
    }
    assert.ok(!r.modelsUsed.includes('<synthetic>'));
    for (const b of r.modelBreakdowns) if (b.modelName === 'claude-experimental-x') assert.equal(b.cost, 0, 'an unknown model costs $0');
    cost += r.totalCost;
  }
  // Also equal to the ccusage-18 tally the generator computed.
  assert.deepEqual(rows.map((r) => [r.date, ...tokensOf(r)]), truth.ccusage18.daily.map((d) => [d.date, ...tokensOf(d)]));
  assert.ok(Number.isFinite(cost) && cost > 0, 'ccusage prices the known models');
  t.diagnostic(`ccusage 18 cost (offline pricing) over ${rows.length} days: $${cost.toFixed(4)}; ` +
    rows.map((r) => `${r.date} $${r.totalCost.toFixed(4)}`).join(', '));
});

test('full mode: ccusage 18 departs from the truth exactly as its own rules predict', (t) => {
  const { home, truth } = generate({ seed: 21, mb: 2 });
  const rows = ccusageDaily(home);
  const tally = truth.ccusage18.daily;
  assert.deepEqual(rows.map((r) => r.date), tally.map((d) => d.date));
  for (const d of tally) {
    const r = byDate(rows).get(d.date)!;
    assert.deepEqual(tokensOf(r), tokensOf(d), `${d.date}: ccusage 18 = its rules applied to what was written`);
    const names = r.modelBreakdowns.map((b) => b.modelName).sort();
    assert.deepEqual(names, Object.keys(d.models).sort(), `${d.date}: breakdown model names`);
    for (const b of r.modelBreakdowns) assert.deepEqual(tokensOf(b), tokensOf(d.models[b.modelName]!), `${d.date} ${b.modelName}`);
  }
  // Every predicted departure is present in this home...
  const e = truth.ccusage18.effects;
  for (const [k, v] of Object.entries(e)) assert.ok(v > 0, `effect ${k} exercised`);
  t.diagnostic(`effects: ${JSON.stringify(e)}`);
  // ...and visible: output undercounted by first partials, some day differs from the truth, a
  // "-fast" breakdown, "<synthetic>" usage in a day's totals but in no breakdown.
  const truthOut = Object.values(truth.byDay).reduce((n, d) => n + Object.values(d.claude).reduce((m, x) => m + x.output, 0), 0);
  const ccOut = rows.reduce((n, r) => n + r.outputTokens, 0);
  assert.notEqual(ccOut, truthOut);
  const differs = rows.some((r) => {
    const c = Object.values(truth.byDay[r.date]?.claude ?? {});
    return r.inputTokens !== c.reduce((n, x) => n + x.input, 0) || r.outputTokens !== c.reduce((n, x) => n + x.output, 0);
  });
  assert.ok(differs);
  assert.ok(rows.some((r) => r.modelBreakdowns.some((b) => b.modelName.endsWith('-fast'))));
  assert.ok(rows.some((r) => r.inputTokens !== r.modelBreakdowns.reduce((n, b) => n + b.inputTokens, 0)), 'synthetic usage is in totals only');
  t.diagnostic(`Claude output: ccusage 18 ${ccOut}, truth ${truthOut}; input: ccusage 18 ${rows.reduce((n, r) => n + r.inputTokens, 0)}, truth ${truth.totals.claude.input}`);
});
