/** Retention of the daily analytics: `deno task admin analytics prune` and what it keeps. */
import assert from "node:assert/strict";
import { runAdmin } from "../../cli/admin.ts";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { retentionCutoff } from "../../lib/analytics/retention.ts";
import { keys } from "../../lib/kv/keys.ts";
import { createPlatform } from "../../lib/kv/platforms.ts";
import { UsageMeter } from "../../lib/usage/meter.ts";
import { periodOf } from "../../lib/usage/period.ts";

const OLD = new Date("2025-09-01T12:00:00Z");
const RECENT = new Date("2026-11-01T12:00:00Z");
const NOW = new Date("2026-11-26T10:00:00Z");

async function keysUnder(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix })) out.push(entry.key);
  return out;
}

Deno.test("analytics prune deletes every platform's daily sums and registers before the cutoff, and keeps the rest", async () => {
  await using kv = await Deno.openKv(":memory:");
  let clock = OLD;
  const meter = new UsageMeter(kv, new UsageRecorder({ now: () => clock }).meterOptions());
  const platforms = await Promise.all(
    ["Acme", "Globex"].map(async (name) => (await createPlatform(kv, { name })).platform.id),
  );
  for (const at of [OLD, RECENT]) {
    clock = at;
    for (const platformId of platforms) {
      await Promise.all(Array.from({ length: 20 }, (_, i) =>
        meter.count({
          platformId,
          userId: `u${i}`,
          plan: "free",
          period: periodOf("month", at),
          limit: null,
          amount: 1,
        })));
    }
  }
  await meter.close();
  const old = OLD.toISOString().slice(0, 10), recent = RECENT.toISOString().slice(0, 10);
  const before = new Map<string, number>();
  for (const platformId of platforms) {
    for (const day of [old, recent]) {
      const n = (await keysUnder(kv, keys.usageDaily(platformId, day))).length +
        (await keysUnder(kv, keys.usageHll(platformId, day))).length;
      assert.ok(n > 3, `${platformId} ${day}: ${n} keys`);
      before.set(`${platformId} ${day}`, n);
    }
  }

  const pruned = await runAdmin(kv, ["analytics", "prune", "--keep-days", "400"], () => NOW);
  const expected = platforms.reduce((sum, p) => sum + before.get(`${p} ${old}`)!, 0);
  assert.deepEqual(pruned, { before: "2025-10-22", platforms: 2, deleted: expected });
  for (const platformId of platforms) {
    assert.deepEqual(await keysUnder(kv, keys.usageDaily(platformId, old)), []);
    assert.deepEqual(await keysUnder(kv, keys.usageHll(platformId, old)), []);
    const kept = (await keysUnder(kv, keys.usageDaily(platformId, recent))).length +
      (await keysUnder(kv, keys.usageHll(platformId, recent))).length;
    assert.equal(kept, before.get(`${platformId} ${recent}`));
    // The usage history itself stays: counters of both periods.
    for (const at of [OLD, RECENT]) {
      const counters = await keysUnder(
        kv,
        keys.usageInPeriod(platformId, periodOf("month", at).key),
      );
      assert.equal(counters.length, 20);
    }
  }
  // Nothing more to do on a second run.
  assert.deepEqual(await runAdmin(kv, ["analytics", "prune"], () => NOW), {
    before: "2025-10-22",
    platforms: 2,
    deleted: 0,
  });
  await assert.rejects(
    () => runAdmin(kv, ["analytics", "prune", "--keep-days", "0"], () => NOW),
    /--keep-days must be whole days/,
  );
});

Deno.test("the retention cutoff counts whole UTC days back from today", () => {
  assert.equal(retentionCutoff(new Date("2026-11-26T23:59:59Z"), 400), "2025-10-22");
  assert.equal(retentionCutoff(new Date("2026-03-01T00:00:00Z"), 1), "2026-02-28");
  assert.equal(retentionCutoff(new Date("2024-03-01T05:00:00Z"), 1), "2024-02-29");
});
