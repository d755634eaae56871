/** GET /dashboard/api/usage — a period's totals, daily series and end-users by count (paged). */
import { usageReport } from "../../../lib/founders/analytics.ts";
import { MAX_BODY_BYTES } from "../../../lib/http/body.ts";
import { readQuery } from "../../../lib/http/query.ts";
import { define, defineRoute } from "../../../lib/http/route.ts";
import { UsageQuerySchema, UsageReportSchema } from "../../../lib/schemas/analytics.ts";

export const route = defineRoute({
  path: "/dashboard/api/usage",
  auth: "paid",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    GET: {
      handler: define.handler(async (c) => {
        const query = readQuery(c, UsageQuerySchema);
        const report = await usageReport(c.get("deps"), c.get("founder").userId, query);
        return c.json(report, 200, { "cache-control": "no-store" });
      }),
      docs: {
        tag: "Founders' API",
        summary: "Usage analytics of a period",
        description:
          "Totals and a daily series (units, calls allowed, calls refused with 429, active end-users) and your end-users by count, descending, 100 a page: pass `next` as `cursor` for the following page. `q` keeps end-users whose id starts with it. `totals.activeUsers` is exact; `daily[].activeUsers` is approximate (see `accuracy`). With `feature`, every figure is that metered feature's (a feature no tier meters is 400).",
        query: UsageQuerySchema,
        responses: { 200: { description: "The period's usage.", schema: UsageReportSchema } },
        errors: ["invalid_request", "subscription_required", "not_found"],
      },
    },
  },
});
