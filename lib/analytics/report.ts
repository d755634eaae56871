/**
 * The founders' usage report: a period's totals and daily series (from the sums the meter's commits
 * record) and its end-users by count (from a `SnapshotCache`).
 */
import { decodeBase64Url, encodeBase64Url } from "../encoding.ts";
import { keys } from "../kv/keys.ts";
import {
  type DailyUsage,
  isPeriodKey,
  type UsageTotals,
  type UsageUserRow,
} from "../schemas/analytics.ts";
import type { Tier } from "../schemas/tiers.ts";
import { periodOf, type PeriodUnit } from "../usage/period.ts";
import { HLL_REGISTERS, HLL_STANDARD_ERROR, hllEstimate } from "./hll.ts";
import { meterLimit } from "./meters.ts";
import type { Cursor, SnapshotCache } from "./snapshot.ts";

/** A period of the report: a calendar month, or one UTC day (the periods of daily tiers). */
export interface ReportPeriod {
  /** `2026-11` or `2026-11-26`: the usage counters' period key. */
  key: string;
  unit: PeriodUnit;
  start: Date;
  end: Date;
}

/**
 * `current` (this UTC month), `YYYY-MM` or `YYYY-MM-DD` → the period; `null` for anything else,
 * including dates that do not exist (`2026-02-30`) and periods outside `PERIOD_RANGE`.
 */
export function parsePeriod(text: string, now: Date): ReportPeriod | null {
  if (text === "current") return { ...periodOf("month", now), unit: "month" };
  if (!isPeriodKey(text)) return null;
  const unit: PeriodUnit = text.length === 10 ? "day" : "month";
  return {
    ...periodOf(unit, new Date(`${unit === "day" ? text : `${text}-01`}T00:00:00.000Z`)),
    unit,
  };
}

/** How exact each figure is, as the API answer states it. */
export const ACCURACY = {
  activeUsers: "exact",
  dailyActiveUsers: "approximate",
  dailyActiveUsersStandardError: Math.round(HLL_STANDARD_ERROR * 1000) / 1000,
} as const;

/**
 * The period's totals and one entry per UTC day of it up to today (a day with no traffic is 0), of
 * the main meter or of one metered `feature`. `activeUsers` of the totals counts the end-users of
 * the period's counters: of monthly meters for a month, of daily meters for a day.
 */
export async function readTraffic(
  kv: Deno.Kv,
  platformId: string,
  period: ReportPeriod,
  now: Date,
  feature?: string,
): Promise<{ totals: UsageTotals; daily: DailyUsage[] }> {
  const first = period.start.toISOString().slice(0, 10);
  // Days of the period up to today: none for a period that has not begun.
  const until = Math.min(period.end.getTime(), endOfDay(now));
  const last = until > period.start.getTime() ? dayBefore(new Date(until)) : null;
  const daily = new Map<string, DailyUsage>();
  for (let d = first; last !== null && d <= last; d = nextDay(d)) {
    daily.set(d, { date: d, units: 0, allowed: 0, refused: 0, activeUsers: 0 });
  }
  const endKey = period.end.toISOString().slice(0, 10);
  // The main meter's keys and a feature's differ only in their prefix before the day.
  const [dailyPrefix, hllPrefix, activeKey] = feature === undefined
    ? [
      (day: string) => keys.usageDaily(platformId, day),
      (day: string) => keys.usageHll(platformId, day),
      keys.usageActive(platformId, period.key),
    ]
    : [
      (day: string) => keys.usageFeatureDaily(platformId, feature, day),
      (day: string) => keys.usageFeatureHll(platformId, feature, day),
      keys.usageFeatureActive(platformId, feature, period.key),
    ];
  const at = dailyPrefix(first).length - 1; // the day's position in a key; then metric/register
  const range = (prefix: (day: string) => Deno.KvKey) => ({
    start: prefix(first),
    end: prefix(endKey),
  });
  const registers = new Map<string, Uint8Array>();
  const [, , active] = await Promise.all([
    (async () => {
      for await (const e of kv.list<Deno.KvU64>(range(dailyPrefix), { batchSize: 500 })) {
        const day = daily.get(e.key[at] as string);
        const metric = e.key[at + 1] as "units" | "allowed" | "refused";
        if (day && metric in day) day[metric] = Number(e.value.value);
      }
    })(),
    (async () => {
      for await (const e of kv.list<Deno.KvU64>(range(hllPrefix), { batchSize: 1000 })) {
        const date = e.key[at] as string;
        let values = registers.get(date);
        if (!values) registers.set(date, values = new Uint8Array(HLL_REGISTERS));
        values[e.key[at + 1] as number] = Number(e.value.value);
      }
    })(),
    kv.get<Deno.KvU64>(activeKey),
  ]);
  for (const [date, values] of registers) {
    const day = daily.get(date);
    if (day) day.activeUsers = hllEstimate(values);
  }
  const days = [...daily.values()];
  const totals: UsageTotals = {
    units: days.reduce((s, d) => s + d.units, 0),
    allowed: days.reduce((s, d) => s + d.allowed, 0),
    refused: days.reduce((s, d) => s + d.refused, 0),
    activeUsers: Number(active.value?.value ?? 0n),
  };
  return { totals, daily: days };
}

/**
 * One page of the period's end-users by count (descending), of the main meter or of one metered
 * `feature` (their limit is then their tier's limit of it), with the cursor of the next.
 */
export async function readUsers(
  cache: SnapshotCache,
  kv: Deno.Kv,
  platformId: string,
  period: ReportPeriod,
  tiers: readonly Tier[],
  options: { limit: number; after?: Cursor; q?: string; now: Date; feature?: string },
): Promise<{ users: UsageUserRow[]; next: Cursor | null; asOf: Date }> {
  const snapshot = await cache.get(kv, platformId, period.key, options.now, options.feature);
  const { rows, more } = snapshot.page(options);
  const limits = new Map(tiers.map((t) => [t.id, meterLimit(t, options.feature)]));
  const users = rows.map((r) => ({
    ...r,
    limit: r.plan === null ? null : limits.get(r.plan) ?? null,
  }));
  const last = users.at(-1);
  return {
    users,
    next: more && last ? { count: last.count, userId: last.userId } : null,
    asOf: snapshot.builtAt,
  };
}

/** Cursor ↔ opaque text: base64url of `[count, userId]`. */
export function encodeCursor(cursor: Cursor): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify([cursor.count, cursor.userId])));
}

/** The cursor in `text`, or `null` when it is not one of ours. */
export function decodeCursor(text: string): Cursor | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(decodeBase64Url(text)));
    if (
      Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) &&
      value[0] >= 0 && typeof value[1] === "string"
    ) {
      return { count: value[0], userId: value[1] };
    }
  } catch {
    // malformed base64 or JSON: not a cursor
  }
  return null;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function dayBefore(date: Date): string {
  return new Date(date.getTime() - 1).toISOString().slice(0, 10);
}

function endOfDay(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
}
