/**
 * Retention of the daily analytics. Deno KV's `sum` and `max` take no expiry, so a platform's
 * daily sums (`usage_daily`, 3 keys a day) and daily HyperLogLog registers (`usage_hll`, up to 256
 * a day) would grow forever. `pruneDailyAnalytics` deletes every day before a cutoff, for every
 * platform; operators run it daily (`deno task admin analytics prune`). Metered features' daily sums
 * and registers (`usage_feature_daily`, `usage_feature_hll`) go the same way. What is per usage period
 * (counters, each end-user's tier, the exact active end-users) is the usage history itself and is
 * kept.
 */
import { keys } from "../kv/keys.ts";
import { listPlatforms } from "../kv/platforms.ts";

/** Days of daily analytics kept by default: a year and a month, so a year-ago comparison holds. */
export const DEFAULT_KEEP_DAYS = 400;

/** Keys deleted per atomic operation (KV allows 1,000 mutations). */
const DELETES_PER_COMMIT = 500;

/** The UTC day (`2026-11-26`) `keepDays` days before `now`: days before it are pruned. */
export function retentionCutoff(now: Date, keepDays: number): string {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  day.setUTCDate(day.getUTCDate() - keepDays);
  return day.toISOString().slice(0, 10);
}

/** Deletes every platform's daily sums and registers of the days before `before` (`YYYY-MM-DD`). */
export async function pruneDailyAnalytics(
  kv: Deno.Kv,
  before: string,
): Promise<{ platforms: number; deleted: number }> {
  const platforms = await listPlatforms(kv);
  let deleted = 0;
  for (const { id } of platforms) {
    for (
      const [all, first] of [
        [keys.usageDailyAll(id), keys.usageDaily(id, before)],
        [keys.usageHllAll(id), keys.usageHll(id, before)],
      ] as const
    ) {
      // Keys sort by day, so the days before the cutoff are exactly those below its prefix.
      let batch: Deno.KvKey[] = [];
      for await (const entry of kv.list({ prefix: all, end: first })) {
        batch.push(entry.key);
        if (batch.length === DELETES_PER_COMMIT) {
          deleted += await deleteAll(kv, batch);
          batch = [];
        }
      }
      deleted += await deleteAll(kv, batch);
    }
    for (
      const [all, first] of [
        [keys.usageFeatureDailyAll(id), keys.usageFeatureDaily],
        [keys.usageFeatureHllAll(id), keys.usageFeatureHll],
      ] as const
    ) {
      for await (const feature of featuresUnder(kv, all)) {
        deleted += await deleteRange(kv, [...all, feature], first(id, feature, before));
      }
    }
  }
  return { platforms: platforms.length, deleted };
}

/**
 * The feature ids under a `[prefix, platformId]` whose next key part is the feature: one read per
 * feature, skipping each feature's keys (`feature + "\0"` sorts after all of them, and feature ids
 * are slugs, so before any other feature).
 */
async function* featuresUnder(kv: Deno.Kv, all: Deno.KvKey): AsyncGenerator<string> {
  let start: Deno.KvKey | undefined;
  while (true) {
    const selector = start ? { prefix: all, start } : { prefix: all };
    let feature: string | undefined;
    for await (const entry of kv.list(selector, { limit: 1 })) {
      feature = entry.key[all.length] as string;
    }
    if (feature === undefined) return;
    yield feature;
    start = [...all, `${feature}\u0000`];
  }
}

/** Deletes every key under `prefix` before `end`; answers how many. */
async function deleteRange(kv: Deno.Kv, prefix: Deno.KvKey, end: Deno.KvKey): Promise<number> {
  let deleted = 0;
  let batch: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix, end })) {
    batch.push(entry.key);
    if (batch.length === DELETES_PER_COMMIT) {
      deleted += await deleteAll(kv, batch);
      batch = [];
    }
  }
  return deleted + await deleteAll(kv, batch);
}

async function deleteAll(kv: Deno.Kv, batch: Deno.KvKey[]): Promise<number> {
  if (batch.length === 0) return 0;
  const op = kv.atomic();
  for (const key of batch) op.delete(key);
  await op.commit();
  return batch.length;
}
