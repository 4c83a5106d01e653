// vc incident open TITLE [--machine ID...] [--severity S] [--started TIME]
// vc incident note ID TEXT | close ID [--note TEXT] | list [--state open|closed|all] | show ID | replay ID
// (list, show and replay: --md or --json; show and replay: --as-of)
import { defineCommand } from 'citty';
import type { Row } from '../duck.ts';
import { UsageError } from '../errors.ts';
import { closeIncident, incidentDetail, INCIDENT_STATES, INCIDENTS_LIST_SQL, noteIncident, openIncident } from '../incidents.ts';
import { envelope, humanAge, mdCode, mdTable } from '../render.ts';
import { mdFooter, mdHeader, reportContext } from '../report.ts';
import { asOfArg, checkArgs, formatArgs, configArg, listArg, loadCliConfig, open, outputFormat, parseAsOf, print, printJson } from './common.ts';

const minute = (v: unknown) => (v ? `${String(v).slice(0, 16).replace('T', ' ')} UTC` : '');
const span = (s: unknown) => (typeof s === 'number' ? humanAge(s) : '');

const openCmd = defineCommand({
  meta: { name: 'open', description: 'Open an incident: its timeline gathers alerts, failed runs and health changes from then on' },
  args: {
    title: { type: 'positional', description: 'what is wrong, in a line', required: true },
    machine: { type: 'string', description: 'a machine it is about (repeatable; none: the fleet)', valueHint: 'ID' },
    severity: { type: 'string', description: 'info, warn or crit (default crit)', valueHint: 'S' },
    started: { type: 'string', description: 'when it began, if before now (ISO 8601)', valueHint: 'TIME' },
    json: { type: 'boolean', description: 'print the incident line as JSON' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const loaded = loadCliConfig(ctx.args);
    const line = await openIncident(loaded, {
      title: String(ctx.args.title), severity: ctx.args.severity === undefined ? undefined : String(ctx.args.severity),
      machines: listArg(ctx, 'machine'), startedAt: parseAsOf(ctx.args.started),
    });
    if (ctx.args.json) printJson(line);
    else print(`opened ${line.incident_id}: ${line.title}`);
  },
});

const noteCmd = defineCommand({
  meta: { name: 'note', description: 'Add a note to an open incident (what was seen, what was tried)' },
  args: {
    id: { type: 'positional', description: 'the incident id', required: true },
    text: { type: 'positional', description: 'the note', required: true },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 2);
    const line = await noteIncident(loadCliConfig(ctx.args), open, String(ctx.args.id), String(ctx.args.text));
    print(`noted on ${line.incident_id}`);
  },
});

const closeCmd = defineCommand({
  meta: { name: 'close', description: 'Close an incident, with a last note' },
  args: {
    id: { type: 'positional', description: 'the incident id', required: true },
    note: { type: 'string', description: 'how it ended', valueHint: 'TEXT' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx, 1);
    const line = await closeIncident(loadCliConfig(ctx.args), open, String(ctx.args.id), ctx.args.note === undefined ? null : String(ctx.args.note));
    print(`closed ${line.incident_id}`);
  },
});

const listCmd = defineCommand({
  meta: { name: 'list', description: 'The incidents, newest first' },
  args: {
    state: { type: 'string', description: 'open, closed or all (default all)', valueHint: 'STATE' },
    ...formatArgs, ...asOfArg, ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const state = ctx.args.state === undefined ? 'all' : String(ctx.args.state);
    if (!(INCIDENT_STATES as readonly string[]).includes(state)) throw new UsageError(`--state "${state}" is not one of: ${INCIDENT_STATES.join(', ')}`);
    const format = outputFormat(ctx.args);
    const asOf = parseAsOf(ctx.args['as-of']);
    const loaded = loadCliConfig(ctx.args);
    // Every recent window: the staleness the envelope carries reads them all.
    const session = await open(loaded, { now: asOf });
    try {
      const incidents = await session.query(INCIDENTS_LIST_SQL, [state]);
      const rctx = await reportContext(session, asOf ?? new Date(), []);
      if (format === 'json') printJson(envelope('incidents', { state, incidents }, rctx.staleness, rctx.warnings));
      else {
        print(mdHeader('incidents', rctx) + (incidents.length ? mdTable(incidents.map((i) => ({
          id: i.incident_id, state: i.state, severity: i.severity, title: i.title, machines: (i.machines as string[]).join(', ') || 'fleet',
          started: minute(i.started_at), duration: span(i.duration), notes: i.notes,
        }))) : `No ${state === 'all' ? '' : `${state} `}incidents.\n`) + mdFooter(rctx, humanAge));
      }
    } finally {
      session.close();
    }
  },
});

function renderDetail(d: { incident: Row; timeline: Row[]; changes: Row[] }, replay: boolean): string {
  const i = d.incident;
  const machines = (i.machines as string[]).join(', ') || 'the fleet';
  let out = `# ${replay ? 'Post-mortem' : 'Incident'} ${String(i.incident_id)}: ${String(i.title)}\n\n`;
  out += `${String(i.severity).toUpperCase()} · ${String(i.state)} · ${machines} · started ${minute(i.started_at)}`
    + `${i.closed_at ? ` · closed ${minute(i.closed_at)}` : ''} · ${i.closed_at ? 'lasted' : 'open for'} ${span(i.duration)}\n`;
  const alerts = d.timeline.filter((t) => t.kind === 'alert' && (t.what === 'open' || t.what === 'reopen'));
  if (replay) {
    const failures = d.timeline.filter((t) => t.kind === 'collector').length;
    out += `\n## Summary\n\n- ${alerts.length} alert${alerts.length === 1 ? '' : 's'} opened in the window, ${failures} failed collector run${failures === 1 ? '' : 's'}\n`;
    out += `- ${d.changes.length} health factor change${d.changes.length === 1 ? '' : 's'} between the snapshots before and after\n`;
  }
  out += `\n## Timeline (${d.timeline.length})\n\n`;
  out += d.timeline.length
    ? d.timeline.map((t) => `- ${minute(t.ts)} · ${String(t.kind)}${t.machine_id ? ` ${String(t.machine_id)}` : ''} · ${String(t.what)}: ${String(t.detail ?? '')}`).join('\n') + '\n'
    : 'Nothing recorded in the window.\n';
  if (d.changes.length) {
    out += `\n## What changed\n\n${mdTable(d.changes.map((c) => ({
      machine: c.machine_id, factor: c.factor_id, subject: c.subject ?? '', change: c.change, before: c.severity_before ?? '', after: c.severity_after ?? '', summary: c.summary,
    })))}`;
  }
  if (!i.closed_at) out += `\nClose it with ${mdCode(`vc incident close ${String(i.incident_id)} --note "..."`)}.\n`;
  return out;
}

const detailCmd = (name: 'show' | 'replay', description: string) => defineCommand({
  meta: { name, description },
  args: { id: { type: 'positional', description: 'the incident id', required: true }, ...formatArgs, ...asOfArg, ...configArg },
  async run(ctx) {
    checkArgs(ctx, 1);
    const format = outputFormat(ctx.args);
    const asOf = parseAsOf(ctx.args['as-of']);
    const d = await incidentDetail(loadCliConfig(ctx.args), open, String(ctx.args.id), asOf);
    if (format === 'json') printJson(envelope('incident', d, {}, []));
    else print(renderDetail(d, name === 'replay'));
  },
});

export default defineCommand({
  meta: { name: 'incident', description: 'Incidents: open, note, close, list, show, replay (a post-mortem)' },
  subCommands: {
    open: openCmd, note: noteCmd, close: closeCmd, list: listCmd,
    show: detailCmd('show', 'An incident with its timeline: notes, alert transitions, failed collector runs, health changes'),
    replay: detailCmd('replay', 'A post-mortem of an incident: summary, timeline, what changed between the snapshots around it'),
  },
});
