// JSON Schemas of every --json envelope, derived from the SQL that fills it: each report query's
// result columns (DuckDB types, read by preparing the query, not running it) give the rows' shape,
// exactly as lib/duck.ts turns values into JSON. So a schema cannot drift from its report.
import type { DuckDBType } from './duckdb.ts';
import { DuckDBTypeId } from './duckdb.ts';
import type { Session } from './duck.ts';
import { ALERT_RULES_SQL, ALERT_STATES, ALERTS_LIST_SQL } from './alerts.ts';
import { INCIDENT_CHANGES_SQL, INCIDENT_SQL, INCIDENT_STATES, INCIDENT_TIMELINE_SQL, INCIDENTS_LIST_SQL } from './incidents.ts';
import { parseNamedQueries, REPORTS, reportVariables } from './report.ts';
import { NAMES, WATCH_VIEWS } from './watch.ts';
import { VIEWS_VERSION } from './duck.ts';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.ts';

export type JsonSchema = Record<string, unknown>;

const nullable = (s: JsonSchema): JsonSchema =>
  typeof s.type === 'string' ? { ...s, type: [s.type, 'null'] } : Object.keys(s).length === 0 ? s : { anyOf: [s, { type: 'null' }] };

/**
 * The JSON a value of `type` becomes (lib/duck.ts toPlain; at the top level of a row DATE is a
 * day and JSON is parsed, nested they stay a time and text).
 */
export function typeSchema(type: DuckDBType, topLevel: boolean): JsonSchema {
  const T = DuckDBTypeId;
  switch (type.typeId) {
    case T.BOOLEAN: return { type: 'boolean' };
    case T.TINYINT: case T.SMALLINT: case T.INTEGER: case T.UTINYINT: case T.USMALLINT: case T.UINTEGER:
    case T.TIME: case T.TIME_NS:
      return { type: 'integer' };
    // 64-bit and wider: a number while it is a safe integer, else its decimal digits.
    case T.BIGINT: case T.UBIGINT: case T.HUGEINT: case T.UHUGEINT: case T.BIGNUM:
      return { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }] };
    case T.FLOAT: case T.DOUBLE: case T.DECIMAL: return { type: 'number' };
    // Seconds.
    case T.INTERVAL: return { type: 'number' };
    case T.TIMESTAMP: case T.TIMESTAMP_S: case T.TIMESTAMP_MS: case T.TIMESTAMP_NS: case T.TIMESTAMP_TZ:
      return { type: 'string', format: 'date-time' };
    case T.DATE: return topLevel ? { type: 'string', format: 'date' } : { type: 'string', format: 'date-time' };
    case T.VARCHAR: return type.alias === 'JSON' && topLevel ? {} : { type: 'string' };
    case T.ENUM: case T.UUID: return { type: 'string' };
    case T.LIST: case T.ARRAY:
      return { type: 'array', items: nullable(typeSchema((type as DuckDBType & { valueType: DuckDBType }).valueType, false)) };
    case T.STRUCT: {
      const s = type as DuckDBType & { entryNames: readonly string[]; entryTypes: readonly DuckDBType[] };
      return {
        type: 'object', additionalProperties: false, required: [...s.entryNames],
        properties: Object.fromEntries(s.entryNames.map((n, i) => [n, nullable(typeSchema(s.entryTypes[i]!, false))])),
      };
    }
    case T.MAP: {
      const m = type as DuckDBType & { keyType: DuckDBType; valueType: DuckDBType };
      return {
        type: 'array', items: {
          type: 'object', additionalProperties: false, required: ['key', 'value'],
          properties: { key: typeSchema(m.keyType, false), value: nullable(typeSchema(m.valueType, false)) },
        },
      };
    }
    case T.SQLNULL: return { type: 'null' };
    default: return {};
  }
}

function rowSchema(columns: ReadonlyArray<{ name: string; type: DuckDBType }>): JsonSchema {
  return {
    type: 'object', additionalProperties: false, required: columns.map((c) => c.name),
    properties: Object.fromEntries(columns.map((c) => [c.name, nullable(typeSchema(c.type, true))])),
  };
}

const rows = (columns: ReadonlyArray<{ name: string; type: DuckDBType }>): JsonSchema => ({ type: 'array', items: rowSchema(columns) });

/** The robot envelope of design.md around `data`. */
export function envelopeSchema(name: string, description: string, data: JsonSchema): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `vc.${name}.v1`,
    description,
    type: 'object', additionalProperties: false,
    required: ['schema_version', 'generated_at', 'data', 'staleness', 'warnings'],
    properties: {
      schema_version: { const: `vc.${name}.v1` },
      generated_at: { type: 'string', format: 'date-time' },
      data,
      staleness: { type: 'object', description: 'Seconds since each source was last collected (null: never)', additionalProperties: { type: ['integer', 'null'] } },
      warnings: { type: 'array', items: { type: 'string' } },
    },
  };
}

/** The data of a report: one key per named query (a list of rows, or one row or null). */
async function reportDataSchema(session: Session, name: string): Promise<JsonSchema> {
  const file = path.join(repoRoot, 'reports', `${name}.sql`);
  await session.query(reportVariables({}));
  const properties: Record<string, JsonSchema> = {};
  for (const q of parseNamedQueries(fs.readFileSync(file, 'utf8'), `reports/${name}.sql`)) {
    if (q.shape === 'setup') {
      await session.query(q.sql);
      continue;
    }
    const columns = await session.resultColumns(q.sql);
    properties[q.name] = q.shape === 'one' ? { anyOf: [rowSchema(columns), { type: 'null' }] } : rows(columns);
  }
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

/** The webhook payload of an alert transition (lib/alerts.ts). */
const ALERT_TRANSITION: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'vc.alert.v1',
  description: 'One alert transition, as POSTed to [alerts] webhook_url',
  type: 'object', additionalProperties: false,
  required: ['schema_version', 'ts', 'alert_id', 'transition', 'rule_id', 'machine_id', 'subject', 'severity', 'title', 'summary', 'evidence', 'next', 'fix', 'note'],
  properties: {
    schema_version: { const: 'vc.alert.v1' },
    ts: { type: 'string', format: 'date-time' },
    alert_id: { type: 'string', pattern: '^a[0-9a-f]{10}$' },
    transition: { enum: ['open', 'update', 'resolve', 'reopen'] },
    rule_id: { type: 'string' }, machine_id: { type: 'string' }, subject: { type: 'string' },
    severity: { enum: ['info', 'warn', 'crit', null] },
    title: { type: ['string', 'null'] }, summary: { type: ['string', 'null'] }, evidence: {},
    next: { type: ['array', 'null'], items: { type: 'string' } }, fix: { type: ['string', 'null'] }, note: { type: ['string', 'null'] },
  },
};

/**
 * vc watch's records (one JSON object a line, no envelope): one branch per event type, told apart
 * by `type`, its fields the columns of the view its items come from (lib/watch.ts WATCH_VIEWS).
 */
async function watchSchema(session: Session): Promise<JsonSchema> {
  const branches: JsonSchema[] = [];
  for (const [type, view] of WATCH_VIEWS) {
    const row = rowSchema(await session.resultColumns(`SELECT * FROM ${VIEWS_VERSION}.${view}`)) as
      { required: string[]; properties: Record<string, JsonSchema> };
    const head: Record<string, JsonSchema> = type === 'health'
      // A machine's severity changed: `from` is the one before (null: first seen).
      ? { type: { const: 'health_change' }, event: { const: 'change' }, from: row.properties.severity ?? {} }
      : { type: { const: type }, event: { enum: [...Object.values(NAMES[type]), 'current'] } };
    const properties = { ts: { type: 'string', format: 'date-time' }, ...head, ...row.properties };
    branches.push({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'vc.watch.v1',
    description: 'vc watch --format jsonl: one record a line, an alert, prediction, opportunity or health_change event (by type)',
    oneOf: branches,
  };
}

/** Every schema, by envelope name. The session's recent tables may be empty: nothing is run but setup. */
export async function allSchemas(session: Session): Promise<Record<string, JsonSchema>> {
  const out: Record<string, JsonSchema> = {};
  for (const [name, load] of Object.entries(REPORTS)) {
    const { default: def } = await load();
    out[name] = envelopeSchema(name, `vc report ${name} --json: ${def.description}`, await reportDataSchema(session, name));
  }
  out.alerts = envelopeSchema('alerts', 'vc alerts list --json: the alerts of the state asked for', {
    type: 'object', additionalProperties: false, required: ['state', 'alerts'],
    properties: { state: { enum: [...ALERT_STATES] }, alerts: rows(await session.resultColumns(ALERTS_LIST_SQL)) },
  });
  out.alert_rules = envelopeSchema('alert_rules', 'vc alerts rules --json: the alert rules and their thresholds', {
    type: 'object', additionalProperties: false, required: ['rules'],
    properties: { rules: rows(await session.resultColumns(ALERT_RULES_SQL)) },
  });
  out.alert = ALERT_TRANSITION;
  out.incidents = envelopeSchema('incidents', 'vc incident list --json: the incidents of the state asked for, newest first', {
    type: 'object', additionalProperties: false, required: ['state', 'incidents'],
    properties: { state: { enum: [...INCIDENT_STATES] }, incidents: rows(await session.resultColumns(INCIDENTS_LIST_SQL)) },
  });
  out.incident = envelopeSchema('incident', 'vc incident show ID --json (and replay ID --json): the incident, its timeline and the factors that changed between the snapshots around it', {
    type: 'object', additionalProperties: false, required: ['incident', 'timeline', 'changes'],
    properties: {
      incident: rowSchema(await session.resultColumns(INCIDENT_SQL)),
      timeline: rows(await session.resultColumns(INCIDENT_TIMELINE_SQL)),
      changes: rows(await session.resultColumns(INCIDENT_CHANGES_SQL)),
    },
  });
  out.watch = await watchSchema(session);
  const { storageSchemas } = await import('./schemas-storage.ts');
  return { ...out, ...storageSchemas() };
}
