// rch: remote compilation across the fleet. What needs attention first (with rch's own command
// where it has one, shown, never run), then each machine's daemon, workers, builds and hints.
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import { RECENT_HOURS, type Row } from '../lib/duck.ts';
import { humanAge, mdCode, mdTable } from '../lib/render.ts';

const rows = (v: unknown) => (v as Row[] | undefined) ?? [];
const time = (v: unknown) => (typeof v === 'string' ? `${v.slice(0, 16).replace('T', ' ')}` : '');
const age = (v: unknown) => (v === null || v === undefined ? '' : humanAge(v));

const report: ReportDef = {
  name: 'rch',
  description: 'Remote compilation (rch): daemon and workers per machine, queue, active builds, recent failed builds, rchd alerts and rch hints',
  // rch's window, and the ones staleness needs (as usage's: a daily source's rows outlive its run's window).
  recent: ['rch', 'sys', 'repos', 'agents', 'tools', 'collector_runs'],
  render(data, ctx) {
    let out = mdHeader('rch', ctx);
    const machines = rows(data.machines);
    if (machines.length === 0) {
      return `${out}No rch status recorded: the rch collector runs \`rch status\` where rch is installed.\n${mdFooter(ctx, humanAge)}`;
    }
    const attention = rows(data.attention);
    if (attention.length) {
      out += '## Needs attention\n\n';
      for (const a of attention) {
        out += `- **${a.severity}** ${a.title}: ${a.summary}${a.fix ? `. Fix (run on ${a.machine_id}): ${mdCode(String(a.fix))}` : ''}\n`;
      }
      out += '\n';
    }
    out += mdTable(machines.map((m) => ({
      machine: m.machine_id,
      daemon: m.answered ? `${m.daemon_version ?? '?'}, up ${age(m.daemon_uptime_secs)}` : `down since ${time(m.down_since)} (${m.error_code ?? '?'})`,
      posture: m.posture ?? '',
      workers: m.answered ? `${m.workers_available}/${m.workers_total ?? '?'} available` : '',
      slots: m.answered ? `${m.slots_available ?? '?'}/${m.slots_total ?? '?'} free` : '',
      queued: m.queue_depth ?? '', active: m.active_count ?? '',
      [`builds ${RECENT_HOURS} h`]: `${m.builds_recent} (${m.failed_recent} failed, ${m.local_recent} local)`,
      alerts: m.alerts_active,
    })));
    const workers = rows(data.workers).filter((w) => !w.available);
    if (workers.length) {
      out += `\n## Workers not available\n\n${mdTable(workers.map((w) => ({
        machine: w.machine_id, worker: w.worker_id, status: w.status, circuit: w.circuit_state ?? '', pressure: w.pressure_state ?? '',
        'failed checks': w.checks_recent === null ? '' : `${w.checks_failed}/${w.checks_recent}`, quarantine: w.bypass_reason_code ?? '',
        'last error': w.last_error ?? '',
      })))}`;
    }
    const active = rows(data.active);
    if (active.length) {
      out += `\n## Building now\n\n${mdTable(active.map((b) => ({
        machine: b.machine_id, worker: b.worker_id ?? '', running: age(b.running_s), phase: b.heartbeat_phase ?? '',
        stale: b.heartbeat_stale || b.progress_stale ? 'yes' : '', command: b.command ?? '',
      })))}`;
    }
    const queued = rows(data.queued);
    if (queued.length) {
      out += `\n## Queued\n\n${mdTable(queued.map((q) => ({
        machine: q.machine_id, position: q.queue_position, waiting: age(q.waiting_s), slots: q.slots_needed, command: q.command ?? '',
      })))}`;
    }
    const failures = rows(data.failures);
    if (failures.length) {
      out += `\n## Failed builds (last ${RECENT_HOURS} h)\n\n${mdTable(failures.map((b) => ({
        machine: b.machine_id, at: time(b.completed_at), worker: b.worker_id ?? 'local', exit: b.exit_code,
        took: age(Number(b.duration_ms) / 1000), command: b.command ?? '',
      })))}`;
    }
    const alerts = rows(data.alerts);
    if (alerts.length) {
      out += `\n## rchd alerts\n\n${mdTable(alerts.map((a) => ({
        machine: a.machine_id, severity: a.severity, kind: a.kind, worker: a.worker_id ?? '', since: time(a.first_seen), message: a.message ?? '',
      })))}`;
    }
    const hints = rows(data.hints);
    if (hints.length) {
      out += `\n## What rch suggests\n\n${mdTable(hints.map((h) => ({
        machine: h.machine_id, severity: h.severity, reason: h.reason_code ?? '', worker: h.worker_id ?? '', message: h.message ?? '',
        command: h.action ?? '',
      })))}`;
    }
    const fallbacks = rows(data.fallbacks);
    if (fallbacks.length) {
      out += `\n## Local fallbacks since rchd started (/metrics)\n\n${mdTable(fallbacks.map((f) => ({ machine: f.machine_id, reason: f.reason, builds: f.builds })))}`;
    }
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
