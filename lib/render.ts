// Rendering rows for people and agents: Markdown, CSV, terminal tables and the JSON envelope.
// Every string that reaches a terminal or a Markdown page is stripped of control characters and
// ANSI escapes first: remote machines and upstream tools are not trusted to print safe text.
import type { Row } from './duck.ts';

// CSI/OSC escape sequences, then any remaining C0/C1 control character except tab and newline.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function sanitize(s: string): string {
  return s.replace(ANSI, '').replace(CONTROL, '');
}

/** One cell's text: null is an empty cell, nested values are compact JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return sanitize(v);
  if (typeof v === 'object') return sanitize(JSON.stringify(v));
  return String(v);
}

const mdCell = (v: unknown) => cellText(v).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown table; `columns` picks and orders columns (default: all of the first row's). */
export function mdTable(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? Object.keys(rows[0] ?? {});
  if (cols.length === 0) return '_(no columns)_\n';
  const head = `| ${cols.map(mdCell).join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n`;
  return head + rows.map((r) => `| ${cols.map((c) => mdCell(r[c])).join(' | ')} |`).join('\n') + (rows.length ? '\n' : '');
}

/** Inline code that survives backticks inside it. */
export function mdCode(s: string): string {
  const clean = sanitize(s).replace(/\n/g, ' ');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${clean}${fence === '``' ? ' ' : ''}${fence}`;
}

/** RFC 4180 CSV: quote fields holding a comma, quote or line break; double inner quotes. */
export function csv(rows: readonly Row[], columns: readonly string[]): string {
  const field = (v: unknown) => {
    const s = cellText(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(field).join(','), ...rows.map((r) => columns.map((c) => field(r[c])).join(','))].join('\n') + '\n';
}

export async function terminalTable(rows: readonly Row[], columns: readonly string[]): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({ head: columns.map(cellText), style: { head: [], border: [] }, wordWrap: true });
  for (const r of rows) table.push(columns.map((c) => cellText(r[c])));
  return table.toString() + '\n';
}

export interface RobotEnvelope {
  schema_version: string;
  generated_at: string;
  data: unknown;
  staleness: Record<string, number | null>;
  warnings: string[];
}

export function envelope(name: string, data: unknown, staleness: Record<string, number | null>, warnings: string[]): RobotEnvelope {
  return { schema_version: `vc.${name}.v1`, generated_at: new Date().toISOString(), data, staleness, warnings };
}

/** Bytes as "1.5 GiB", for Markdown only (JSON keeps raw numbers). */
export function humanBytes(n: unknown): string {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n, i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Seconds as "3d 4h", "12m", "40s", for Markdown only. */
export function humanAge(s: unknown): string {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h${s < 36000 && Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ''}`;
}
