/** POST /api/data — count usage for an end-user, checked against their tier's limit. */
import { define } from "../../lib/define.ts";
import { parseHeader, parseJson } from "../../lib/http/body.ts";
import { jsonResponse } from "../../lib/http/json.ts";
import { IdempotencyKeySchema, TrackBodySchema } from "../../lib/schemas/tenant.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { usageBody, usageHeaders } from "../../lib/usage/response.ts";
import { ApiError, errorBody } from "../../lib/errors.ts";

export const POST = define.tenant(async ({ req, caller, deps, text, requestId }) => {
  const idempotencyKey = parseHeader(req.headers.get("idempotency-key"), IdempotencyKeySchema);
  const { amount } = parseJson(await text(), TrackBodySchema);
  const at = deps.now();
  const result = await deps.meter.count({
    platformId: caller.tenant.platformId,
    userId: caller.userId,
    plan: caller.tier.id,
    period: periodOf(caller.tier.period, at),
    limit: caller.tier.limit,
    amount,
    idempotencyKey,
  });
  if (result.conflict) {
    throw new ApiError(
      "conflict",
      "This Idempotency-Key was already used with a different request (another amount); use a new key.",
    );
  }
  const body = usageBody(result, caller.planSource);
  const headers = usageHeaders(result, at);
  if (result.replayed) headers["Idempotent-Replayed"] = "true";
  if (result.ok) return jsonResponse(body, 200, headers);
  const message =
    `Usage limit reached: ${amount} more would exceed ${result.limit} for plan '${result.plan}' this period.`;
  return jsonResponse(
    { ...body, ...errorBody("limit_exceeded", message, undefined, requestId) },
    429,
    headers,
  );
});
