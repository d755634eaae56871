/**
 * Feature counts for the analytics tests, through the real meter with the recorder's analytics in
 * its commits (as `main.ts` wires them), one call after another. Threshold events are left out:
 * these tests read analytics, not the founders' outbox.
 */
import type { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { type CountRequest, UsageMeter } from "../../lib/usage/meter.ts";
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
  const meter = new UsageMeter(kv, { ...recorder.meterOptions(), events: false });
  const granted: boolean[] = [];
  try {
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
      granted.push((await meter.count(req)).ok);
    }
  } finally {
    await meter.close();
  }
  return granted;
}
