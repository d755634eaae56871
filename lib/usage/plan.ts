/** Which tier a tenant-API call is measured against. */
import { ApiError } from "../errors.ts";
import { defaultTier, type Tier } from "../schemas/tiers.ts";

/** The `X-User-Plan` tier when given (unknown → 400 naming the valid ids), else the default tier. */
export function resolvePlan(
  tiers: readonly Tier[],
  planHeader: string | undefined,
): { tier: Tier; source: "header" | "default" } {
  if (planHeader === undefined) return { tier: defaultTier(tiers), source: "default" };
  const tier = tiers.find((t) => t.id === planHeader);
  if (!tier) {
    throw new ApiError(
      "invalid_request",
      `X-User-Plan '${planHeader.slice(0, 64)}' is not a tier of this platform; valid: ${
        tiers.map((t) => t.id).join(", ")
      }.`,
    );
  }
  return { tier, source: "header" };
}
