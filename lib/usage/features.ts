/**
 * What a tenant-API call names as `feature`, judged against the end-user's tier: the main meter,
 * a metered feature (its own limit and period), or an on/off feature. The refusals (unknown id,
 * not in the tier) are the same for `POST /api/data`, `GET /api/usage` and `GET /api/check`.
 */
import { ApiError } from "../errors.ts";
import { cheapestTierWith, featureIdsOf, type Tier } from "../schemas/tiers.ts";
import type { PeriodUnit } from "./period.ts";

/** A metered counter: the tier's main meter (`id` undefined) or one metered feature. */
export interface Metered {
  kind: "metered";
  /** the feature id; undefined for the tier's main meter */
  id: string | undefined;
  limit: number | null;
  period: PeriodUnit;
}

/** An on/off feature of the tier: `enabled` is `true` only when the tier sets it `true`. */
export interface Switch {
  kind: "switch";
  id: string;
  enabled: boolean;
}

/** The tier's main meter. */
export function mainMeter(tier: Tier): Metered {
  return { kind: "metered", id: undefined, limit: tier.limit, period: tier.period };
}

/**
 * The feature `id` as `tier` has it. Throws 400 `invalid_request` (listing the platform's feature
 * ids) when no tier of the platform defines it. A feature the tier lacks is a `Switch` that is off
 * for on/off features, and for metered ones `null` (the caller decides: a count is refused 403).
 */
export function featureOf(
  tiers: readonly Tier[],
  tier: Tier,
  id: string,
): Metered | Switch | null {
  const feature = tier.features?.[id];
  if (typeof feature === "object") {
    return { kind: "metered", id, limit: feature.limit, period: feature.period ?? tier.period };
  }
  if (feature === true) return { kind: "switch", id, enabled: true };
  const known = featureIdsOf(tiers);
  if (!known.includes(id)) {
    throw new ApiError(
      "invalid_request",
      `feature '${id}' is not a feature of this platform; valid: ${
        known.length > 0 ? known.join(", ") : "none (no tier defines features)"
      }.`,
    );
  }
  const elsewhere = tiers.find((t) => t.features?.[id] !== undefined)!.features![id];
  return typeof elsewhere === "boolean" ? { kind: "switch", id, enabled: false } : null;
}

/**
 * 403 `feature_not_included`: the end-user's tier does not include `feature`; `upgradeTo` is the
 * cheapest tier that does (`null`: none), so the founder's product can offer the upgrade.
 */
export function featureNotIncluded(tiers: readonly Tier[], tier: Tier, feature: string): ApiError {
  const upgradeTo = cheapestTierWith(tiers, feature)?.id ?? null;
  return new ApiError(
    "feature_not_included",
    `Plan '${tier.id}' does not include feature '${feature}'${
      upgradeTo ? `; the cheapest plan that does is '${upgradeTo}'` : ""
    }.`,
    { feature, plan: tier.id, upgradeTo },
  );
}

/**
 * The metered counter a count names: the main meter without `id`; 400 for an on/off feature,
 * which cannot be counted (whatever the tier: it is the caller's bug on every plan); 403 when the
 * tier lacks the metered feature.
 */
export function countedFeature(
  tiers: readonly Tier[],
  tier: Tier,
  id: string | undefined,
): Metered {
  if (id === undefined) return mainMeter(tier);
  const feature = featureOf(tiers, tier, id);
  if (feature === null) throw featureNotIncluded(tiers, tier, id);
  if (feature.kind === "switch") {
    throw new ApiError(
      "invalid_request",
      `feature '${id}' is on/off: it cannot be counted. Ask GET /api/check?feature=${id} whether the plan includes it.`,
    );
  }
  return feature;
}
