/**
 * The overview's "end-users this period": the busiest end-users of the platform's current month
 * and day, read from the usage counters. Bounded (it scans at most `scan` counters per period);
 * the analytics page (issue 6) is where the full, paged view belongs.
 */
import { keys } from "../kv/keys.ts";
import { countOf, type StoredCount } from "../kv/usage.ts";
import { periodOf, type PeriodUnit } from "../usage/period.ts";

export interface UsageRow {
  userId: string;
  count: number;
}

export interface PeriodUsage {
  unit: PeriodUnit;
  /** `2026-11` or `2026-11-26`. */
  key: string;
  /** Busiest first, at most `top`. */
  top: UsageRow[];
  /** End-users counted (of the scanned counters), and whether the scan stopped early. */
  users: number;
  units: number;
  truncated: boolean;
}

/** The busiest end-users of the current period of each unit the platform's tiers use. */
export async function usageSummary(
  kv: Deno.Kv,
  platformId: string,
  units: readonly PeriodUnit[],
  now: Date,
  options: { top?: number; scan?: number } = {},
): Promise<PeriodUsage[]> {
  const top = options.top ?? 10;
  const scan = options.scan ?? 1000;
  const out: PeriodUsage[] = [];
  for (const unit of new Set(units)) {
    const period = periodOf(unit, now);
    const rows: UsageRow[] = [];
    let units = 0;
    let truncated = false;
    const iter = kv.list<StoredCount>({ prefix: keys.usageInPeriod(platformId, period.key) }, {
      limit: scan + 1,
    });
    for await (const entry of iter) {
      if (rows.length === scan) {
        truncated = true;
        break;
      }
      const count = countOf(entry.value);
      rows.push({ userId: String(entry.key[entry.key.length - 1]), count });
      units += count;
    }
    rows.sort((a, b) => b.count - a.count || a.userId.localeCompare(b.userId));
    out.push({
      unit,
      key: period.key,
      top: rows.slice(0, top),
      users: rows.length,
      units,
      truncated,
    });
  }
  return out;
}
