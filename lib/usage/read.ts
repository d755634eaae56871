/**
 * Reading usage without counting: `GET /api/usage` (the end-user's usage, and every feature of
 * their tier) and `GET /api/check` (would a call be allowed now). Both read through the meter,
 * so they share its cached counts: one read of the end-user's shard guard confirms them all.
 */
import type { CheckResponse } from "../schemas/responses.ts";
import { countedFeature, featureOf, mainMeter, type Metered } from "./features.ts";
import type { Meter } from "./meter.ts";
import { periodOf } from "./period.ts";
import { type UsageBody, usageBody, type UsageNumbers, usageNumbers } from "./response.ts";
import type { CountResult } from "./decide.ts";
import type { Tier } from "../schemas/tiers.ts";

/** What these reads need of the tenant API's caller (lib/auth's `Caller` is one). */
export interface ReadingCaller {
  tenant: { platformId: string; tiers: readonly Tier[] };
  userId: string;
  tier: Tier;
  planSource: string;
}

/**
 * The end-user's usage now: `usage` is the main meter's, or `feature`'s when given (403 when the
 * tier lacks it, 400 for an on/off one); `features` holds every feature of the tier, when it
 * declares any. Every counter is read at once (one KV read for the end-user's shard).
 */
export async function readUsage(
  meter: Meter,
  caller: ReadingCaller,
  feature: string | undefined,
  at: Date,
): Promise<{ body: UsageBody; result: CountResult }> {
  const { tier, tenant, userId } = caller;
  const chosen = feature === undefined
    ? mainMeter(tier)
    : countedFeature(tenant.tiers, tier, feature);
  const read = (m: Metered) => meter.read(tenant.platformId, periodOf(m.period, at), userId, m.id);
  // A tier without features (the common case) reads one counter, as before features.
  const entries = tier.features === undefined ? [] : Object.entries(tier.features);
  const [count, ...featureCounts] = entries.length === 0
    ? [await read(chosen)]
    : await Promise.all([
      read(chosen),
      ...entries.map(([id, f]) =>
        typeof f === "object"
          ? read({ kind: "metered", id, limit: f.limit, period: f.period ?? tier.period })
          : null
      ),
    ]);
  const period = periodOf(chosen.period, at);
  const result: CountResult = {
    ok: true,
    replayed: false,
    count,
    limit: chosen.limit,
    plan: tier.id,
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
  };
  const body = usageBody(result, caller.planSource, feature);
  if (entries.length > 0) {
    const features: Record<string, UsageNumbers | { enabled: boolean }> = {};
    entries.forEach(([id, f], i) => {
      features[id] = typeof f === "object"
        ? usageNumbers(featureCounts[i]!, f.limit)
        : { enabled: f };
    });
    body.features = features;
  }
  return { body, result };
}

/**
 * Whether a call of `amount` on `feature` (default: the main meter) would be allowed now, counting
 * nothing: for a metered counter, whether the amount fits its limit; for an on/off feature,
 * whether the tier includes it. A feature the tier lacks is not allowed; one no tier defines is 400.
 */
export async function checkCall(
  meter: Meter,
  caller: ReadingCaller,
  feature: string | undefined,
  amount: number,
  at: Date,
): Promise<CheckResponse> {
  const { tier, tenant, userId } = caller;
  const chosen = feature === undefined ? mainMeter(tier) : featureOf(tenant.tiers, tier, feature);
  const answer = (allowed: boolean, usage?: UsageNumbers): CheckResponse => {
    const body: CheckResponse = { success: true, allowed, feature: feature ?? null, plan: tier.id };
    if (usage) body.usage = usage;
    return body;
  };
  if (chosen === null) return answer(false);
  if (chosen.kind === "switch") return answer(chosen.enabled);
  const count = await meter.read(tenant.platformId, periodOf(chosen.period, at), userId, chosen.id);
  return answer(
    chosen.limit === null || count + amount <= chosen.limit,
    usageNumbers(count, chosen.limit),
  );
}
