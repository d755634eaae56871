/** Usage periods: calendar months and days in UTC. */

export type PeriodUnit = "month" | "day";

export interface Period {
  /** `2026-11` for a month, `2026-11-26` for a day: the period segment of usage keys. */
  key: string;
  start: Date;
  end: Date;
}

/** The period of `unit` that contains `now`. */
export function periodOf(unit: PeriodUnit, now: Date): Period {
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
