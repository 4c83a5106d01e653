// Diff: what changed in the fleet between two snapshots (vc diff --from T1 --to T2).
import type { ReportDef } from '../lib/report.ts';
import { mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const minute = (v: unknown) => (v ? `${String(v).slice(0, 16).replace('T', ' ')} UTC` : 'none');

const report: ReportDef = {
  name: 'diff',
  description: 'What changed between two fleet snapshots: machines whose health changed, factors that appeared or cleared, alert transitions',
  options: ['since', 'until', 'machine'],
  render(data, ctx) {
    const w = data.window as Row;
    const machines = (data.machines as Row[]) ?? [];
    const factors = (data.factors as Row[]) ?? [];
    const alerts = (data.alerts as Row[]) ?? [];
    let out = mdHeader('diff', ctx);
    out += `From ${minute(w.from_ts)} (snapshot ${minute(w.from_snapshot)}) to ${minute(w.to_ts)} (snapshot ${minute(w.to_snapshot)})\n\n`;
    if (!w.from_snapshot || !w.to_snapshot) {
      out += `No snapshot at or before ${!w.from_snapshot ? minute(w.from_ts) : minute(w.to_ts)}: take them with \`vc snapshot\` (cron does, hourly).\n`;
    } else if (w.from_snapshot === w.to_snapshot) {
      out += 'Both times fall on the same snapshot: nothing to compare.\n';
    } else if (!machines.length && !factors.length) {
      out += 'No change in machine health or in the factors not ok.\n';
    }
    if (machines.length) {
      out += `\n## Machines (${machines.length})\n\n${mdTable(machines.map((m) => ({
        machine: m.machine_id, change: m.change, before: m.severity_before ?? '', after: m.severity_after ?? '', 'worst now': m.worst_after ?? '',
      })))}`;
    }
    if (factors.length) {
      out += `\n## Factors (${factors.length})\n\n${mdTable(factors.map((f) => ({
        machine: f.machine_id, factor: f.factor_id, subject: f.subject ?? '', change: f.change,
        before: f.severity_before ? `${f.severity_before} (${f.value_before})` : '', after: f.severity_after ? `${f.severity_after} (${f.value_after})` : '', summary: f.summary,
      })))}`;
    }
    if (alerts.length) {
      out += `\n## Alert transitions (${alerts.length})\n\n${mdTable(alerts.map((a) => ({
        at: minute(a.ts), alert: a.alert_id, transition: a.transition, machine: a.machine_id, title: a.title ?? a.rule_id,
      })))}`;
    }
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
