/** Which tier a tenant-API call is measured against. */
import type { PaidPlan } from "../kv/end_users.ts";
import { ApiError } from "../errors.ts";
import { defaultTier, type Tier } from "../schemas/tiers.ts";

export type PlanSource = "subscription" | "header" | "default";

/**
 * In order: the tier of the end-user's subscription recorded from Stripe (active, trialing or
 * past_due); else the `X-User-Plan` tier; else the default tier. An unknown `X-User-Plan` is 400
 * naming the valid ids even when a subscription decides, so a caller's bug never hides. A
 * subscription whose tier was since removed from the platform finds it by its price, else is ignored.
 */
export function resolvePlan(
  tiers: readonly Tier[],
  planHeader: string | undefined,
  subscription: PaidPlan | null = null,
): { tier: Tier; source: PlanSource } {
  const headerTier = planHeader === undefined ? undefined : tiers.find((t) => t.id === planHeader);
  if (planHeader !== undefined && !headerTier) {
    throw new ApiError(
      "invalid_request",
      `X-User-Plan '${planHeader.slice(0, 64)}' is not a tier of this platform; valid: ${
        tiers.map((t) => t.id).join(", ")
      }.`,
    );
  }
  if (subscription) {
    const paid = tiers.find((t) => t.id === subscription.tier) ??
      (subscription.priceId
        ? tiers.find((t) => t.stripePriceId === subscription.priceId)
        : undefined);
    if (paid) return { tier: paid, source: "subscription" };
  }
  if (headerTier) return { tier: headerTier, source: "header" };
  return { tier: defaultTier(tiers), source: "default" };
}
