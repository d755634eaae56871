/** POST /api/data — count usage for an end-user, checked against their tier's limit. */
import { ApiError, errorBody } from "../../lib/errors.ts";
import { MAX_BODY_BYTES, parseHeader, parseJson } from "../../lib/http/body.ts";
import { jsonResponse } from "../../lib/http/json.ts";
import { define, defineRoute } from "../../lib/http/route.ts";
import { RATE_LIMIT_HEADERS } from "../../lib/openapi/types.ts";
import { LimitExceededResponseSchema, UsageResponseSchema } from "../../lib/schemas/responses.ts";
import { IdempotencyKeySchema, TrackBodySchema } from "../../lib/schemas/tenant.ts";
import { countedFeature } from "../../lib/usage/features.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { usageBody, usageHeaders } from "../../lib/usage/response.ts";

const POST = define.tenant(async ({ req, caller, deps, text, requestId }) => {
  const idempotencyKey = parseHeader(req.headers.get("idempotency-key"), IdempotencyKeySchema);
  const { amount, feature } = parseJson(await text(), TrackBodySchema);
  // Without a feature, the tier itself is the meter (its `limit` and `period`): nothing more to do.
  const metered = feature === undefined
    ? caller.tier
    : countedFeature(caller.tenant.tiers, caller.tier, feature);
  const at = deps.now();
  const result = await deps.meter.count({
    platformId: caller.tenant.platformId,
    userId: caller.userId,
    plan: caller.tier.id,
    period: periodOf(metered.period, at),
    limit: metered.limit,
    amount,
    idempotencyKey,
    feature,
  });
  if (result.conflict) {
    throw new ApiError(
      "conflict",
      `This Idempotency-Key was already used with a different request (another amount${
        feature === undefined ? "" : " or feature"
      }); use a new key.`,
    );
  }
  const body = usageBody(result, caller.planSource, feature);
  const headers = usageHeaders(result, at);
  if (result.replayed) headers["Idempotent-Replayed"] = "true";
  if (result.ok) return jsonResponse(body, 200, headers);
  const message = `Usage limit reached: ${amount} more would exceed ${result.limit}${
    feature === undefined ? "" : ` of feature '${feature}'`
  } for plan '${result.plan}' this period.`;
  return jsonResponse(
    { ...body, ...errorBody("limit_exceeded", message, undefined, requestId) },
    429,
    headers,
  );
});

export const route = defineRoute({
  path: "/api/data",
  auth: "tenant",
  bodyLimit: MAX_BODY_BYTES,
  methods: {
    POST: {
      handler: POST,
      hot: true,
      docs: {
        tag: "Tenant API",
        summary: "Count usage for an end-user",
        description:
          "Counts `amount` units (default 1) for the end-user in the current period, atomically checked against their plan's limit. When the amount does not fit, nothing is counted and the answer is 429. With `feature`, the units count against that metered feature of the plan (its own limit and period) instead, and the answer carries `feature`; a feature no tier defines is 400 (listing the platform's features), one the end-user's plan lacks is 403 `feature_not_included` naming the cheapest plan that has it (`details.upgradeTo`), and an on/off feature cannot be counted (400). With an `Idempotency-Key`, a repeat within 24 hours (same key, platform and end-user) with the same body returns the first answer again and counts nothing; it carries `Idempotent-Replayed: true`. The same key with another body (another `amount` or `feature`) is 409 `conflict` and counts nothing, also when the two arrive at once. A count that brings the usage to 80 % of a finite limit, or leaves none, queues the founder's `usage.near_limit` / `usage.limit_reached` webhook event in the same commit.",
        headers: ["X-User-Id", "X-User-Plan", "Idempotency-Key"],
        body: TrackBodySchema,
        example: { amount: 1 },
        responses: {
          200: {
            description: "Counted. The usage after this call.",
            schema: UsageResponseSchema,
            headers: [...RATE_LIMIT_HEADERS, "Idempotent-Replayed"],
          },
          429: {
            description:
              "The amount does not fit in the limit: nothing was counted. The body carries the usage as it stands.",
            schema: LimitExceededResponseSchema,
            headers: [...RATE_LIMIT_HEADERS, "Retry-After", "Idempotent-Replayed"],
          },
        },
        errors: ["invalid_request", "feature_not_included", "conflict"],
      },
    },
  },
});
