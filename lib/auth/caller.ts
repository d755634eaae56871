/**
 * Who is calling the tenant API: the platform behind the Bearer key, the end-user (`X-User-Id`)
 * and the plan they are measured against (their Stripe subscription, else `X-User-Plan`, else the
 * default tier). Every auth failure is the same 401, so keys cannot be probed.
 */
import type { Caller, Deps } from "../define.ts";
import { ApiError, UNAUTHORIZED_MESSAGE } from "../errors.ts";
import { UserIdSchema } from "../schemas/tenant.ts";
import { resolvePlan } from "../usage/plan.ts";
import { hashApiKey, isApiKeyShaped } from "../api_keys.ts";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The caller of a tenant-API request, from its headers; throws the 401/400 `ApiError`s. Awaits
 * only what its caches do not hold, so a warm call costs no turn of the event loop.
 */
export async function authenticateCaller(
  headers: Headers,
  deps: Pick<Deps, "tenants" | "endUserPlans">,
): Promise<Caller> {
  const match = BEARER.exec(headers.get("authorization") ?? "");
  if (!match || !isApiKeyShaped(match[1])) {
    throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);
  }
  const resolving = deps.tenants.resolve(hashApiKey(match[1]));
  const tenant = resolving instanceof Promise ? await resolving : resolving;
  if (!tenant) throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);

  const user = UserIdSchema.safeParse(headers.get("x-user-id") ?? undefined);
  if (!user.success) throw new ApiError("invalid_request", user.error.issues[0].message);

  // One cached read: the end-user's subscription, written by /webhook/stripe.
  const paying = deps.endUserPlans.get(tenant.platformId, user.data);
  const paid = paying instanceof Promise ? await paying : paying;
  const plan = resolvePlan(tenant.tiers, headers.get("x-user-plan") ?? undefined, paid);
  return { tenant, userId: user.data, tier: plan.tier, planSource: plan.source };
}
