// Health: a score per machine from explainable factors, each with value, thresholds and severity.
import type { ReportDef } from '../lib/report.ts';
import { HEALTH_HISTORY, mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdTable } from '../lib/render.ts';

const report: ReportDef = {
  name: 'health',
  description: 'Health score per machine and for the fleet, with every factor behind it',
  healthFactors: true,
  history: HEALTH_HISTORY,
  render(data, ctx) {
    const fleet = data.fleet as Row | null;
    const machines = (data.machines as Row[]) ?? [];
    const factors = (data.factors as Row[]) ?? [];
    let out = mdHeader('health', ctx);
    if (fleet && Number(fleet.machines) > 0) {
      out += `Fleet **${String(fleet.severity).toUpperCase()}** · worst score ${fleet.score} · mean ${fleet.mean_score} · ${fleet.machines} machines\n\n`;
    }
    out += mdTable(machines, ['machine_id', 'score', 'severity', 'worst_factor', 'worst_summary', 'crit_factors', 'warn_factors']);
    const notOk = factors.filter((f) => f.severity !== 'ok');
    out += `\n## Factors not ok (${notOk.length} of ${factors.length})\n\n`;
    out += notOk.length ? mdTable(notOk, ['machine_id', 'factor_id', 'subject', 'value', 'unit', 'warn', 'crit', 'severity', 'summary']) : 'All factors are ok.\n';
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
