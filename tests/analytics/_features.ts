/**
 * Feature counts for the analytics tests. The meter's own feature counting is another branch's;
 * until it lands this does what its commits do: the feature's counter (`keys.usageFeature`, a
 * `Deno.KvU64`) and the recorder's analytics, in one commit per call, the call granted while the
 * feature's limit allows.
 */
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { keys } from "../../lib/kv/keys.ts";
import { countOf, type StoredCount, toStoredCount } from "../../lib/kv/usage.ts";
import type { CountRequest } from "../../lib/usage/meter.ts";
import { periodOf, type PeriodUnit } from "../../lib/usage/period.ts";

export interface FeatureCall {
  userId: string;
  plan: string;
  feature: string;
  limit: number | null;
  amount?: number;
  unit?: PeriodUnit;
}

/** Counts `calls` one after another; answers whether each was granted. */
export async function countFeature(
  kv: Deno.Kv,
  recorder: UsageRecorder,
  platformId: string,
  now: Date,
  calls: FeatureCall[],
): Promise<boolean[]> {
  const granted: boolean[] = [];
  for (const call of calls) {
    const req: CountRequest = {
      platformId,
      userId: call.userId,
      plan: call.plan,
      period: periodOf(call.unit ?? "month", now),
      limit: call.limit,
      amount: call.amount ?? 1,
      feature: call.feature,
    };
    const key = keys.usageFeature(platformId, call.feature, req.period.key, call.userId);
    const entry = await kv.get<StoredCount>(key);
    const before = countOf(entry.value);
    const ok = req.limit === null || before + req.amount <= req.limit;
    const op = kv.atomic().check(entry);
    if (ok) op.set(key, toStoredCount(before + req.amount));
    const committed = recorder.record(op, [{ req, ok, before }]);
    if (!(await op.commit()).ok) throw new Error("the test's feature commit raced");
    committed();
    granted.push(ok);
  }
  return granted;
}
