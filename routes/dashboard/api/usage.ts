/** GET /dashboard/api/usage — a period's totals, daily series and end-users by count (paged). */
import { define } from "../../../lib/define.ts";
import { usageReport } from "../../../lib/founders/analytics.ts";
import { readQuery } from "../../../lib/http/query.ts";
import { UsageQuerySchema } from "../../../lib/schemas/analytics.ts";

export const GET = define.handler(async (c) => {
  const query = readQuery(c, UsageQuerySchema);
  const report = await usageReport(c.get("deps"), c.get("founder").userId, query);
  return c.json(report, 200, { "cache-control": "no-store" });
});
