// The stored line (design.md, "The envelope"): one JSON object per line, the same for every source.

export type EnvelopeKind = 'snapshot' | 'event';

export interface Envelope {
  v: 1;
  source: string;
  machine_id: string;
  /** ISO-8601 UTC with milliseconds and a trailing Z. */
  collected_at: string;
  run_id: string;
  collector_version: string;
  schema_version: number;
  kind: EnvelopeKind;
  /** Natural key: views dedupe events on (source, machine_id, key). */
  key?: string;
  data: unknown;
  raw?: unknown;
}

/** Lines above this size are refused: a source that produces them is broken or hostile. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Makes a value ready to store, at any depth:
 * - null-valued keys are dropped: the views read an absent key as NULL, so nothing is lost, and
 *   lines of sparse items (agents) shrink by half, which is parse time saved on every query;
 * - strings become well-formed UTF-16: JSON.stringify writes a lone surrogate as an escape that
 *   DuckDB refuses to read, which would make the whole line unreadable.
 * Array elements are kept (nulls included).
 */
export function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(storable);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k.toWellFormed()] = storable(v);
  return out;
}

export function newRunId(): string {
  // Time-ordered and unique enough across machines: ms timestamp + random suffix.
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
