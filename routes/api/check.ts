/** GET /api/check — would a call be allowed now? Counts nothing. */
import { jsonResponse } from "../../lib/http/json.ts";
import { parseQuery } from "../../lib/http/query.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { CheckResponseSchema } from "../../lib/schemas/responses.ts";
import { CheckQuerySchema } from "../../lib/schemas/tenant.ts";
import { checkCall } from "../../lib/usage/read.ts";

const GET = define.tenant(async ({ req, caller, deps }) => {
  const { feature, amount } = parseQuery(req.url, CheckQuerySchema);
  return jsonResponse(await checkCall(deps.meter, caller, feature, amount, deps.now()));
});

export const route = defineRoute({
  path: "/api/check",
  auth: "tenant",
  methods: {
    GET: {
      handler: GET,
      hot: true,
      docs: {
        tag: "Tenant API",
        summary: "Check whether a call would be allowed",
        description:
          "Whether a call of `amount` units (default 1) on `feature` (default: the tier's main meter) would be allowed now, counting nothing: 200 either way, with `allowed`. For a metered counter the answer carries the usage as it stands; for an on/off feature, `allowed` says whether the end-user's plan includes it. A feature the plan lacks is `allowed: false`; a feature no tier defines is 400. Answered from the same cached counts as `POST /api/data` (one small read confirms them), so a check is cheap, but only a count reserves anything: two calls may both be told `allowed`.",
        headers: ["X-User-Id", "X-User-Plan"],
        query: CheckQuerySchema,
        responses: {
          200: { description: "Whether the call would be allowed.", schema: CheckResponseSchema },
        },
        errors: ["invalid_request"],
      },
    },
  },
});
