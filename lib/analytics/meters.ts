/**
 * The meter analytics read: a tier's main meter (`feature` undefined: its `limit` and `period`, what
 * a call naming no feature counts) or one of its metered features (its own `limit` and `period`).
 */
import type { Tier } from "../schemas/tiers.ts";
import type { PeriodUnit } from "../usage/period.ts";

/**
 * The meter's limit in a tier; `null` when unlimited, and for a feature the tier does not meter
 * (absent or on/off): nothing is counted against a limit there.
 */
export function meterLimit(tier: Tier, feature: string | undefined): number | null {
  if (feature === undefined) return tier.limit;
  const f = tier.features?.[feature];
  return typeof f === "object" ? f.limit : null;
}

/** The period a meter of a tier counts in: a feature's own, else the tier's. */
export function meterUnit(tier: Tier, feature: string | undefined): PeriodUnit {
  if (feature === undefined) return tier.period;
  const f = tier.features?.[feature];
  return (typeof f === "object" ? f.period : undefined) ?? tier.period;
}

/** Whether a tier meters `feature` (a `{ limit, period? }` feature, not on/off). */
export function meters(tier: Tier, feature: string): boolean {
  return typeof tier.features?.[feature] === "object";
}

/** The ids of the features some tier meters, sorted: those analytics can show. */
export function meteredFeatureIds(tiers: readonly Tier[]): string[] {
  return [
    ...new Set(tiers.flatMap((t) => Object.keys(t.features ?? {}).filter((id) => meters(t, id)))),
  ]
    .sort();
}
