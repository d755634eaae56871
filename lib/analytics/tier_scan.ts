/** Reads the tiers recorded for a period's end-users (`keys.usagePlan`), in user-id (KV) order. */
import { keys } from "../kv/keys.ts";

/** End-user ids in KV order with their tier as an index into `planNames` (0: `null`). */
export interface TierColumn {
  ids: string[];
  plans: Uint8Array;
  planNames: (string | null)[];
}

/** One pass over the period's tier records. */
export async function readTiers(
  kv: Deno.Kv,
  platformId: string,
  period: string,
): Promise<TierColumn> {
  const ids: string[] = [];
  const plans: number[] = [];
  const planNames: (string | null)[] = [null];
  const index = new Map<string, number>();
  const list = kv.list<string>({ prefix: keys.usagePlansInPeriod(platformId, period) }, {
    batchSize: 1000,
  });
  for await (const entry of list) {
    let i = index.get(entry.value);
    if (i === undefined) {
      // A platform has at most 20 tiers, but a period may have seen renamed ones: cap at 255.
      i = planNames.length < 256 ? planNames.push(entry.value) - 1 : 0;
      if (i > 0) index.set(entry.value, i);
    }
    ids.push(entry.key[3] as string);
    plans.push(i);
  }
  return { ids, plans: Uint8Array.from(plans), planNames };
}
