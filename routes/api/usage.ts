/** GET /api/usage — the end-user's usage in the current period, without counting. */
import { jsonResponse } from "../../lib/http/json.ts";
import { parseQuery } from "../../lib/http/query.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { RATE_LIMIT_HEADERS } from "../../lib/openapi/types.ts";
import { UsageResponseSchema } from "../../lib/schemas/responses.ts";
import { UsageQuerySchema } from "../../lib/schemas/tenant.ts";
import { readUsage } from "../../lib/usage/read.ts";
import { usageHeaders } from "../../lib/usage/response.ts";

const GET = define.tenant(async ({ req, caller, deps }) => {
  const { feature } = parseQuery(req.url, UsageQuerySchema);
  const at = deps.now();
  const { body, result } = await readUsage(deps.meter, caller, feature, at);
  return jsonResponse(body, 200, usageHeaders(result, at));
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
        description:
          "The end-user's usage in the current period, without counting anything. When their tier declares features, `features` holds each one: a metered feature's usage in its own period, or whether an on/off feature is enabled. With `?feature=<id>`, `usage`, `period` and the `RateLimit-*` headers are that metered feature's.",
        headers: ["X-User-Id", "X-User-Plan"],
        query: UsageQuerySchema,
        responses: {
          200: {
            description: "The usage this period.",
            schema: UsageResponseSchema,
            headers: RATE_LIMIT_HEADERS,
          },
        },
        errors: ["invalid_request", "feature_not_included"],
      },
    },
  },
});
