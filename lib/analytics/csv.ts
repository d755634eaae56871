/**
 * `GET /dashboard/api/usage.csv`: every end-user of a period as CSV (RFC 4180), streamed straight
 * from KV in user-id order: a pull-based stream over the counters merged with the recorded tiers,
 * so memory holds one batch however many end-users the period has.
 */
import { keys } from "../kv/keys.ts";
import type { StoredCount } from "../kv/usage.ts";
import type { Tier } from "../schemas/tiers.ts";
import { meterLimit } from "./meters.ts";
import { counterPrefix, mergeUsage } from "./snapshot.ts";

export const CSV_HEADER = "user_id,plan,count,limit\r\n";

/** Rows encoded per chunk the stream hands on. */
const ROWS_PER_CHUNK = 500;

/**
 * The period's end-users as a CSV byte stream, of the main meter or of one metered `feature`.
 * `limit` is the tier's limit (of the feature) now; empty when unlimited, when the tier no longer
 * exists or no longer meters the feature.
 */
export function usageCsv(
  kv: Deno.Kv,
  platformId: string,
  period: string,
  tiers: readonly Tier[],
  feature?: string,
): ReadableStream<Uint8Array> {
  const limits = new Map(tiers.map((t) => [t.id, meterLimit(t, feature)]));
  const counters = kv.list<StoredCount>({ prefix: counterPrefix(platformId, period, feature) }, {
    batchSize: 1000,
  });
  const plans = kv.list<string>({ prefix: keys.usagePlansInPeriod(platformId, period) }, {
    batchSize: 1000,
  });
  const rows = mergeUsage(counters, plans);
  const encoder = new TextEncoder();
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let text = headerSent ? "" : CSV_HEADER;
      headerSent = true;
      for (let n = 0; n < ROWS_PER_CHUNK; n++) {
        const next = await rows.next();
        if (next.done) {
          if (text) controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        const { userId, plan, count } = next.value;
        const limit = plan === null ? null : limits.get(plan) ?? null;
        text += `${csvField(userId)},${csvField(plan ?? "")},${count},${limit ?? ""}\r\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
    async cancel() {
      await rows.return(undefined);
    },
  }, { highWaterMark: 1 });
}

/**
 * One CSV field: quoted when it holds a comma, quote or line break (RFC 4180 §2). End-user ids come
 * from tenants' callers, so one that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
 * CR) gets a leading `'` (OWASP's advice against CSV injection).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
