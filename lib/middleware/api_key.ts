/**
 * `requireApiKey`: authenticates a tenant-API call (Bearer key), then reads the end-user
 * (`X-User-Id`) and resolves their plan: their Stripe subscription, else `X-User-Plan`, else the
 * default tier. Every auth failure gets the same 401, so keys can't be probed; it runs before
 * anything that reads a body or writes.
 */
import { hashApiKey, isApiKeyShaped } from "../auth/api_keys.ts";
import { define } from "../define.ts";
import { ApiError, UNAUTHORIZED_MESSAGE } from "../errors.ts";
import { UserIdSchema } from "../schemas/tenant.ts";
import { resolvePlan } from "../usage/plan.ts";

export function requireApiKey() {
  return define.middleware(async function requireApiKey(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !isApiKeyShaped(match[1])) {
      throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);
    }
    const tenant = await c.get("deps").tenants.resolve(hashApiKey(match[1]));
    if (!tenant) throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);

    const user = UserIdSchema.safeParse(c.req.header("x-user-id"));
    if (!user.success) throw new ApiError("invalid_request", user.error.issues[0].message);

    // One cached read: the end-user's subscription, written by /webhook/stripe.
    const paid = await c.get("deps").endUserPlans.get(tenant.platformId, user.data);
    const { tier, source } = resolvePlan(tenant.tiers, c.req.header("x-user-plan"), paid);
    c.set("caller", { tenant, userId: user.data, tier, planSource: source });
    await next();
  });
}
