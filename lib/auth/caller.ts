/**
 * Who is calling the tenant API: the platform behind the Bearer key, the end-user (`X-User-Id`)
 * and the plan they are measured against (their Stripe subscription, else `X-User-Plan`, else the
 * default tier). Every auth failure is the same 401, so keys cannot be probed.
 */
import type { Deps } from "../deps.ts";
import { ApiError, invalidRequest, UNAUTHORIZED_MESSAGE } from "../errors.ts";
import type { Tier } from "../schemas/tiers.ts";
import { UserIdSchema } from "../schemas/tenant.ts";
import { type PlanSource, resolvePlan } from "../usage/plan.ts";
import { hashApiKey, isApiKeyShaped } from "../api_keys.ts";
import { bearerToken } from "./bearer.ts";
import type { Tenant } from "./tenant_cache.ts";

/** Who is calling the tenant API: made by `authenticateCaller` (set by `requireApiKey`). */
export interface Caller {
  tenant: Tenant;
  userId: string;
  tier: Tier;
  planSource: PlanSource;
}

/** What a tenant-API handler is given: the request, its authenticated caller, deps and body. */
export interface TenantContext {
  req: Request;
  caller: Caller;
  deps: Deps;
  /** The body as text (its size already limited by the route's body limit). */
  text(): Promise<string>;
  /** This request's id, for error envelopes the handler writes itself. */
  requestId: string;
}

/** A tenant-API handler: plain `Request` in, `Response` out, so it runs with or without Hono. */
export type TenantHandler = (ctx: TenantContext) => Promise<Response>;

/**
 * The caller of a tenant-API request, from its headers; throws the 401/400 `ApiError`s. Awaits
 * only what its caches do not hold, so a warm call costs no turn of the event loop.
 */
export async function authenticateCaller(
  headers: Headers,
  deps: Pick<Deps, "tenants" | "endUserPlans">,
): Promise<Caller> {
  const key = bearerToken(headers.get("authorization"));
  if (key === null || !isApiKeyShaped(key)) {
    throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);
  }
  const resolving = deps.tenants.resolve(hashApiKey(key));
  const tenant = resolving instanceof Promise ? await resolving : resolving;
  if (!tenant) throw new ApiError("unauthorized", UNAUTHORIZED_MESSAGE);

  const user = UserIdSchema.safeParse(headers.get("x-user-id") ?? undefined);
  if (!user.success) throw invalidRequest(user.error, { brief: true });

  // One cached read: the end-user's subscription, written by /webhook/stripe.
  const paying = deps.endUserPlans.get(tenant.platformId, user.data);
  const paid = paying instanceof Promise ? await paying : paying;
  const plan = resolvePlan(tenant.tiers, headers.get("x-user-plan") ?? undefined, paid);
  return { tenant, userId: user.data, tier: plan.tier, planSource: plan.source };
}
