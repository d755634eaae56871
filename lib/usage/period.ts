/** Usage periods: calendar months and days in UTC. */

export type PeriodUnit = "month" | "day";

export interface Period {
  /** `2026-11` for a month, `2026-11-26` for a day: the period segment of usage keys. */
  key: string;
  start: Date;
  end: Date;
}

/**
 * The period of `unit` that contains `now`. The hot path asks on every call and the answer changes
 * once a day or month, so the last period of each unit is kept (a pure memo: same input, same answer;
 * callers treat periods as read-only).
 */
export function periodOf(unit: PeriodUnit, now: Date): Period {
  const t = now.getTime();
  const last = recent[unit];
  if (last && t >= last.start.getTime() && t < last.end.getTime()) return last;
  return recent[unit] = computePeriod(unit, now);
}

const recent: Partial<Record<PeriodUnit, Period>> = {};

function computePeriod(unit: PeriodUnit, now: Date): Period {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  if (unit === "day") {
    const d = now.getUTCDate();
    return {
      key: now.toISOString().slice(0, 10),
      start: new Date(Date.UTC(y, m, d)),
      end: new Date(Date.UTC(y, m, d + 1)),
    };
  }
  return {
    key: now.toISOString().slice(0, 7),
    start: new Date(Date.UTC(y, m, 1)),
    end: new Date(Date.UTC(y, m + 1, 1)),
  };
}

/** A period's bounds as the API answers them (ISO 8601). */
export interface PeriodBounds {
  start: string;
  end: string;
}

/**
 * A memo of periods' answered bounds, built once per period: the hot path answers them on every
 * call, and a period changes once a day or month (at most 64 are kept).
 * @example const boundsOf = periodBoundsMemo(); boundsOf(period).start
 */
export function periodBoundsMemo(): (period: Period) => PeriodBounds {
  const memo = new Map<string, PeriodBounds>();
  return (period) => {
    let bounds = memo.get(period.key);
    if (!bounds) {
      if (memo.size >= 64) memo.clear();
      bounds = Object.freeze({ start: period.start.toISOString(), end: period.end.toISOString() });
      memo.set(period.key, bounds);
    }
    return bounds;
  };
}
