// Triage: what needs attention, most urgent first, with why and the commands to run next.
import type { ReportDef } from '../lib/report.ts';
import { HEALTH_HISTORY, mdFooter, mdHeader } from '../lib/report.ts';
import type { Row } from '../lib/duck.ts';
import { humanAge, mdCode, sanitize } from '../lib/render.ts';

/** Markdown shows this many items; the JSON carries them all. */
const MD_ITEMS = 15;

const report: ReportDef = {
  name: 'triage',
  description: 'What needs attention now, ranked, with the evidence and the next commands to run',
  healthFactors: true,
  history: HEALTH_HISTORY,
  render(data, ctx) {
    const fleet = data.fleet as Row | null;
    const items = (data.items as Row[]) ?? [];
    let out = mdHeader('triage', ctx);
    if (fleet && Number(fleet.machines) > 0) {
      const crit = items.filter((i) => i.severity === 'crit').length;
      out += `Fleet **${String(fleet.severity).toUpperCase()}** · ${fleet.machines} machines (${fleet.machines_crit} crit, ${fleet.machines_warn} warn, ${fleet.machines_ok} ok)`
        + ` · ${items.length} items (${crit} crit, ${items.length - crit} warn)\n\n`;
    } else {
      out += 'No machine has reported yet: run `vc collect`.\n';
    }
    if (fleet && Number(fleet.machines) > 0 && items.length === 0) out += 'Nothing needs attention.\n';
    for (const item of items.slice(0, MD_ITEMS)) {
      out += `${item.rank}. **${String(item.severity).toUpperCase()}** ${sanitize(String(item.title))}\n`;
      out += `   ${sanitize(String(item.why))}\n`;
      for (const cmd of (item.next as string[]) ?? []) out += `   - ${mdCode(cmd)}\n`;
      if (item.fix) out += `   - on ${item.machine_id}: ${mdCode(String(item.fix))}\n`;
    }
    if (items.length > MD_ITEMS) out += `\n${items.length - MD_ITEMS} more: ${mdCode('vc report triage --json')}\n`;
    return out + mdFooter(ctx, humanAge);
  },
};
export default report;
