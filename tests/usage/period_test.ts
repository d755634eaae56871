import assert from "node:assert/strict";
import { periodOf } from "../../lib/usage/period.ts";

Deno.test("periods are UTC calendar months and days, also when asked out of order", () => {
  const times = [
    "2026-11-30T23:59:59.999Z",
    "2026-12-01T00:00:00.000Z",
    "2026-11-15T12:00:00.000Z",
    "2026-12-31T23:59:59.999Z",
    "2027-01-01T00:00:00.000Z",
    "2024-02-29T10:00:00.000Z",
  ];
  const expected = [
    ["2026-11", "2026-11-01", "2026-12-01", "2026-11-30", "2026-11-30", "2026-12-01"],
    ["2026-12", "2026-12-01", "2027-01-01", "2026-12-01", "2026-12-01", "2026-12-02"],
    ["2026-11", "2026-11-01", "2026-12-01", "2026-11-15", "2026-11-15", "2026-11-16"],
    ["2026-12", "2026-12-01", "2027-01-01", "2026-12-31", "2026-12-31", "2027-01-01"],
    ["2027-01", "2027-01-01", "2027-02-01", "2027-01-01", "2027-01-01", "2027-01-02"],
    ["2024-02", "2024-02-01", "2024-03-01", "2024-02-29", "2024-02-29", "2024-03-01"],
  ];
  // Twice over: the second pass reads what the first one remembered.
  for (let pass = 0; pass < 2; pass++) {
    times.forEach((time, i) => {
      const month = periodOf("month", new Date(time));
      const day = periodOf("day", new Date(time));
      const date = (d: Date) => d.toISOString().slice(0, 10);
      assert.deepEqual(
        [month.key, date(month.start), date(month.end), day.key, date(day.start), date(day.end)],
        expected[i],
        time,
      );
    });
  }
});
