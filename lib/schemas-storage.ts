// JSON Schemas of the storage commands' envelopes (vc compact, vc retention): their data is built
// in TypeScript (lib/compact.ts, lib/retention.ts), not by SQL, so the schemas are written here,
// next to nothing else, and test/retention.test.ts validates real outputs against them.
import { envelopeSchema, type JsonSchema } from './schemas.ts';
import { SOURCES } from './catalog.ts';

const obj = (properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema => ({
  type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties,
});
const int = { type: 'integer', minimum: 0 };
const str = { type: 'string' };
const day = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
const source = { enum: [...SOURCES] };
const strings = { type: 'array', items: str };
const days = { type: ['integer', 'null'], minimum: 1 };

const rollups = obj({
  steps: { type: 'array', items: obj({ day, segment: str, hourly_rows: int, daily_rows: int, ms: int }) },
  removed: strings, problems: strings, ms: int,
});

export function storageSchemas(): Record<string, JsonSchema> {
  return {
    compact: envelopeSchema('compact', 'vc compact --json: the segments written, days that failed, files removed and the rollups', obj({
      steps: { type: 'array', items: obj({
        source, day, action: { enum: ['segment', 'merge'] }, segment: str, rows: int, new_rows: int, malformed: int,
        ndjson_bytes: int, parquet_bytes: int, ms: int,
      }) },
      failed: strings, removed: strings, problems: strings, rows: int, ndjson_bytes: int, ms: int,
      rollups,
    }, ['rollups'])),
    retention: envelopeSchema('retention', 'vc retention show --json: the policy in force per source (null days: kept)', obj({
      policies: { type: 'array', items: obj({ source, raw_days: days, compacted_days: days, from: { enum: ['source', 'all', 'none'] }, set_at: { type: ['string', 'null'] } }) },
    })),
    retention_set: envelopeSchema('retention_set', 'vc retention set --json: the policy line appended', obj({
      ts: str, source: { enum: [...SOURCES, 'all'] }, raw_days: days, compacted_days: days,
    })),
    retention_apply: envelopeSchema('retention_apply', 'vc retention apply [--dry-run] --json: what was (or would be) deleted, and what was kept and why', obj({
      dry_run: { type: 'boolean' },
      deletions: { type: 'array', items: obj({ source, day, path: str, bytes: int, why: { enum: ['raw compacted', 'day expired'] } }) },
      kept: { type: 'array', items: obj({ source, day, path: str, why: str }) },
    })),
  };
}
