/**
 * The tier editor's impact preview: for each tier as edited, how many of its end-users this period
 * are already over its limit and how many are within 10% of it, before the founder saves. Of the
 * main meter, or of one metered feature (each tier's limit and period of that feature).
 */
import type { TierImpact } from "../schemas/analytics.ts";
import type { Tier } from "../schemas/tiers.ts";
import { periodOf } from "../usage/period.ts";
import { meterLimit, meterUnit } from "./meters.ts";
import type { SnapshotCache } from "./snapshot.ts";

/** Share of the limit from which an end-user counts as near it. */
export const NEAR_LIMIT = 0.9;

/**
 * Each tier's impact, from the snapshot of the period its `period` setting (or the feature's) puts
 * it in (this month, or today): what the counts are now, measured against the new limit. A tier
 * that does not meter `feature` has no limit of it: its end-users are counted, none is over.
 * @example await previewTiers(cache, kv, "plt_1", [{ id: "free", limit: 50, … }], new Date())
 */
export async function previewTiers(
  cache: SnapshotCache,
  kv: Deno.Kv,
  platformId: string,
  tiers: readonly Tier[],
  now: Date,
  feature?: string,
): Promise<{ tiers: TierImpact[]; asOf: Date }> {
  const periods = new Map(
    [...new Set(tiers.map((t) => meterUnit(t, feature)))].map((
      unit,
    ) => [unit, periodOf(unit, now).key]),
  );
  const snapshots = new Map(
    await Promise.all(
      [...periods].map(async ([unit, key]) =>
        [unit, await cache.get(kv, platformId, key, now, feature)] as const
      ),
    ),
  );
  const impacts = tiers.map((tier) => {
    const unit = meterUnit(tier, feature);
    const limit = meterLimit(tier, feature);
    const counts = snapshots.get(unit)!.tierCounts(tier.id);
    const impact: TierImpact = {
      id: tier.id,
      period: periods.get(unit)!,
      users: counts.length,
      overLimit: 0,
      nearLimit: 0,
    };
    if (limit !== null) {
      const atMost = upperBound(counts, limit);
      impact.overLimit = counts.length - atMost;
      impact.nearLimit = atMost - lowerBound(counts, NEAR_LIMIT * limit);
    }
    return impact;
  });
  const asOf = [...snapshots.values()].reduce(
    (oldest, s) => (s.builtAt < oldest ? s.builtAt : oldest),
    now,
  );
  return { tiers: impacts, asOf };
}

/** Index of the first value ≥ `x` in ascending `values`. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first value > `x` in ascending `values`. */
function upperBound(values: Float64Array, x: number): number {
  let lo = 0, hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
