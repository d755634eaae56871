/** GET /api/usage — the end-user's usage in the current period, without counting. */
import { jsonResponse } from "../../lib/http/json.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { RATE_LIMIT_HEADERS } from "../../lib/openapi/types.ts";
import { UsageResponseSchema } from "../../lib/schemas/responses.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { usageBody, usageHeaders } from "../../lib/usage/response.ts";

const GET = define.tenant(async ({ caller, deps }) => {
  const at = deps.now();
  const period = periodOf(caller.tier.period, at);
  const count = await deps.meter.read(caller.tenant.platformId, period, caller.userId);
  const result = {
    ok: true,
    replayed: false,
    count,
    limit: caller.tier.limit,
    plan: caller.tier.id,
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
  };
  const headers = usageHeaders(result, at);
  return jsonResponse(usageBody(result, caller.planSource), 200, headers);
});

export const route = defineRoute({
  path: "/api/usage",
  auth: "tenant",
  methods: {
    GET: {
      handler: GET,
      hot: true,
      docs: {
        tag: "Tenant API",
        summary: "Read an end-user's usage",
        description: "The end-user's usage in the current period, without counting anything.",
        headers: ["X-User-Id", "X-User-Plan"],
        responses: {
          200: {
            description: "The usage this period.",
            schema: UsageResponseSchema,
            headers: RATE_LIMIT_HEADERS,
          },
        },
        errors: ["invalid_request"],
      },
    },
  },
});
