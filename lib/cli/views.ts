// vc views [--json]: every queryable source and derived view, its columns and what it is.
import { defineCommand } from 'citty';
import { VIEWS_VERSION } from '../duck.ts';
import { envelope, mdTable } from '../render.ts';
import { checkArgs, configArg, loadCliConfig, open, outputFormat, print, printJson } from './common.ts';

export default defineCommand({
  meta: { name: 'views', description: 'List the sources and views vc query can read, with their columns' },
  args: {
    md: { type: 'boolean', description: 'Markdown (default)' },
    json: { type: 'boolean', description: 'JSON envelope' },
    ...configArg,
  },
  async run(ctx) {
    checkArgs(ctx);
    const format = outputFormat(ctx.args);
    const session = await open(loadCliConfig(ctx.args), { recent: [] });
    try {
      // Some relations are tables (parsed or computed once per session); to a query they are views.
      const views = await session.query(`
        WITH rel AS (
          SELECT schema_name, view_name AS name, comment FROM duckdb_views() WHERE NOT internal
          UNION ALL SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT internal
        )
        SELECT r.name, CASE WHEN r.schema_name = 'main' THEN 'source' ELSE r.schema_name END AS kind,
          r.comment AS description,
          list({name: c.column_name, type: c.data_type} ORDER BY c.column_index) AS columns
        FROM rel r JOIN duckdb_columns() c ON c.schema_name = r.schema_name AND c.table_name = r.name
        WHERE r.schema_name IN ('main', $1)
        GROUP BY ALL ORDER BY kind DESC, name`, [VIEWS_VERSION]);
      if (format === 'json') {
        printJson(envelope('views', { views }, {}, []));
        return;
      }
      let out = `# vc views\n\nSources are the stored data as collected; ${VIEWS_VERSION} views derive from them. `
        + `Query any of them by name: ${'`'}vc query "SELECT * FROM latest_sys"${'`'}.\n\n`;
      out += mdTable(views.map((v) => ({
        name: v.name, kind: v.kind, description: v.description,
        columns: (v.columns as Array<{ name: string; type: string }>).map((c) => c.name).join(', '),
      })));
      print(out);
    } finally {
      session.close();
    }
  },
});
