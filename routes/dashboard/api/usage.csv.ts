/** GET /dashboard/api/usage.csv — every end-user of a period as CSV, streamed from KV. */
import { define } from "../../../lib/define.ts";
import { usageCsvExport } from "../../../lib/founders/analytics.ts";
import { readQuery } from "../../../lib/http/query.ts";
import { UsageCsvQuerySchema } from "../../../lib/schemas/analytics.ts";

export const GET = define.handler(async (c) => {
  const { period } = readQuery(c, UsageCsvQuerySchema);
  const { stream, filename } = await usageCsvExport(c.get("deps"), c.get("founder").userId, period);
  return new Response(stream, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});
