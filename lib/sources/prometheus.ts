// The Prometheus text exposition format (version 0.0.4, what /metrics endpoints serve): samples
// with their labels, value and optional timestamp, each tied to its family and the family's TYPE.
// Small and strict: a line that is not a comment, blank, or a well-formed sample is an error
// naming the line, so an HTML error page or a truncated body is never read as metrics.

export interface PromSample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram family `x`. */
  name: string;
  /** The family it belongs to (the name without a histogram/summary suffix). */
  family: string;
  /** The family's `# TYPE` (counter, gauge, histogram, summary, untyped), or null when it had none. */
  type: string | null;
  labels: Record<string, string>;
  /** The value; NaN, +Inf and -Inf are kept as JavaScript's (JSON has no place for them). */
  value: number;
  /** Milliseconds since the epoch, when the sample carries one. */
  timestampMs: number | null;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** A value as the format writes it: a Go float, or NaN / +Inf / -Inf (any case). */
function parseValue(s: string): number | null {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === '+inf' || l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/** Reads `{a="x",b="y"}` from the start of `s`; returns the labels and the rest. */
function parseLabels(s: string, fail: (why: string) => never): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const skipSpace = () => { while (s[i] === ' ' || s[i] === '\t') i++; };
  for (;;) {
    skipSpace();
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const m = LABEL_NAME.exec(s.slice(i));
    if (!m) fail('a label name was expected');
    const name = m[0];
    i += name.length;
    skipSpace();
    if (s[i] !== '=') fail(`"=" was expected after label ${name}`);
    i++;
    skipSpace();
    if (s[i] !== '"') fail(`label ${name}'s value is not quoted`);
    let value = '';
    for (i++; ; i++) {
      if (i >= s.length) fail(`label ${name}'s value is not closed`);
      const c = s[i]!;
      if (c === '"') break;
      if (c === '\\') {
        const e = s[++i];
        value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : fail(`label ${name}'s value has an unknown escape`);
      } else {
        value += c;
      }
    }
    i++;
    if (Object.hasOwn(labels, name)) fail(`label ${name} is given twice`);
    labels[name] = value;
    skipSpace();
    if (s[i] === ',') i++;
    else if (s[i] !== '}') fail('"," or "}" was expected after a label');
  }
}

/** Parses a whole exposition; throws `line N: why` on the first line that is not the format. */
export function parsePrometheusText(text: string): PromSample[] {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    const fail = (why: string): never => {
      const shown = line.length > 80 ? `${line.slice(0, 80)}...` : line;
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(shown)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (m) {
        if (!NAME.test(m[1]!) || !TYPES.has(m[2]!)) fail('a malformed TYPE line');
        types.set(m[1]!, m[2]!);
      }
      return; // HELP and other comments
    }
    const nm = NAME.exec(line);
    if (!nm) fail('not a sample (a metric name was expected)');
    const name = nm![0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    const labelled = rest.startsWith('{');
    if (labelled) ({ labels, rest } = parseLabels(rest, fail));
    const parts = rest.trim().split(/[ \t]+/);
    // A name runs up to a space or "{": "rch_x0" is a name, not rch_x with the value 0.
    if ((!labelled && !/^[ \t]/.test(rest)) || parts.length > 2 || parts[0] === '') fail('a value (and at most a timestamp) was expected');
    const value = parseValue(parts[0]!);
    if (value === null) fail(`${JSON.stringify(parts[0])} is not a number`);
    let timestampMs: number | null = null;
    if (parts.length === 2) {
      if (!/^-?\d+$/.test(parts[1]!)) fail('the timestamp is not an integer');
      timestampMs = Number(parts[1]);
    }
    let family = name;
    for (const [type, suffixes] of Object.entries(SUFFIXES)) {
      const s = suffixes.find((x) => name.endsWith(x) && types.get(name.slice(0, -x.length)) === type);
      if (s) family = name.slice(0, -s.length);
    }
    samples.push({ name, family, type: types.get(family) ?? null, labels, value: value!, timestampMs });
  });
  return samples;
}
