// vc watch: every interval, what a guardian agent needs to hear, as JSON lines. The items come
// from SQL (views/v1/70_watch.sql); here only what changed between two reads is worked out:
// alerts open, update (a new severity) and resolve; predictions and opportunities appear, change
// and go; a machine's health severity changes.
import type { Row, Session } from './duck.ts';
import { materializeHealthFactors } from './report.ts';

export interface WatchItem {
  type: 'alert' | 'prediction' | 'opportunity' | 'health';
  key: string;
  machine_id: string;
  severity: string | null;
  title: string | null;
  summary: string | null;
  evidence: unknown;
  next: string[] | null;
  detail: Record<string, unknown>;
}

export interface WatchEvent extends Omit<WatchItem, 'type'> {
  ts: string;
  type: 'alert' | 'prediction' | 'opportunity' | 'health_change';
  /** alert: open, update, resolve; prediction and opportunity: new, update, gone; health_change: change; any: current (snapshot). */
  event: string;
  /** health_change: the severity before (null: first seen). */
  from?: string | null;
}

export type WatchState = Map<string, WatchItem>;

const id = (i: Pick<WatchItem, 'type' | 'key'>) => `${i.type}\u0000${i.key}`;

/** What counts as a change worth an event: a new severity; for a forecast, its hours left halving or doubling. */
function fingerprint(i: WatchItem): string {
  if (i.type === 'prediction') {
    const h = Number(i.detail.hours_left);
    return Number.isFinite(h) && h > 0 ? String(Math.floor(Math.log2(h))) : String(h);
  }
  return String(i.severity);
}

/** The event names of each kind of item as it appears, changes and goes (every read also repeats unchanged ones as `current`). */
export const NAMES = {
  alert: { new: 'open', update: 'update', gone: 'resolve' },
  prediction: { new: 'new', update: 'update', gone: 'gone' },
  opportunity: { new: 'new', update: 'update', gone: 'gone' },
} as const;

/** The view each kind of item is read from (views/v1/70_watch.sql), in the order they are read. */
export const WATCH_VIEWS: ReadonlyArray<[WatchItem['type'], string]> = [
  ['alert', 'watch_alerts'], ['health', 'watch_health'], ['opportunity', 'watch_opportunities'], ['prediction', 'watch_predictions'],
];

function event(i: WatchItem, ts: string, name: string): WatchEvent {
  if (i.type === 'health') throw new Error('health items become health_change events');
  const { type, ...rest } = i;
  return { ts, type, event: name, ...rest };
}

/**
 * The events between the previous read (`prev`, null on the first) and `items`: with `changesOnly`
 * just what changed, else also every current item as a `current` event (a full picture each time).
 */
export function watchEvents(prev: WatchState | null, items: readonly WatchItem[], ts: string, changesOnly: boolean): { events: WatchEvent[]; state: WatchState } {
  const state: WatchState = new Map(items.map((i) => [id(i), i]));
  const events: WatchEvent[] = [];
  for (const i of items) {
    const before = prev?.get(id(i));
    if (i.type === 'health') {
      if (!before || before.severity !== i.severity) {
        const { type: _type, ...rest } = i;
        events.push({ ts, type: 'health_change', event: 'change', from: before?.severity ?? null, ...rest });
      }
      continue;
    }
    if (!before) events.push(event(i, ts, NAMES[i.type].new));
    else if (fingerprint(before) !== fingerprint(i)) events.push(event(i, ts, NAMES[i.type].update));
    else if (!changesOnly) events.push(event(i, ts, 'current'));
  }
  for (const [k, i] of prev ?? []) {
    if (!state.has(k) && i.type !== 'health') events.push(event(i, ts, NAMES[i.type].gone));
  }
  return { events, state };
}

/**
 * One read of the watched items (the session's health factors are computed here, once). Each
 * item is its view's row as it is (lib/schemas.ts derives the records' schema from those columns).
 */
export async function readWatchItems(session: Session): Promise<WatchItem[]> {
  await materializeHealthFactors(session);
  const items: WatchItem[] = [];
  for (const [type, view] of WATCH_VIEWS) {
    const rows: Row[] = await session.query(`SELECT * FROM v1.${view} ORDER BY "key"`);
    items.push(...rows.map((r) => ({ type, ...r }) as WatchItem));
  }
  return items;
}
