/** Period snapshots: the worker read equals the in-thread read, KV string order, cache freshness. */
import assert from "node:assert/strict";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { buildSnapshot, compareKeyStrings, SnapshotCache } from "../../lib/analytics/snapshot.ts";
import { keys } from "../../lib/kv/keys.ts";
import { UsageMeter } from "../../lib/usage/meter.ts";
import { periodOf } from "../../lib/usage/period.ts";

const NOW = new Date("2026-11-15T12:00:00.000Z");

async function seeded(path: string, users: number) {
  const kv = await Deno.openKv(path);
  const meter = new UsageMeter(kv, new UsageRecorder({ now: () => NOW }).meterOptions());
  await Promise.all(Array.from({ length: users }, (_, i) =>
    meter.count({
      platformId: "plt_s",
      userId: `u${i}`,
      plan: ["free", "pro", "team"][i % 3],
      period: periodOf("month", NOW),
      limit: null,
      amount: 1 + (i * 31) % 17,
    })));
  await meter.close();
  return kv;
}

Deno.test("a snapshot read with a worker on the KV file equals the one read in-thread", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kv.sqlite`;
    const kv = await seeded(path, 3000);
    const inThread = await buildSnapshot(kv, "plt_s", "2026-11", NOW);
    const withWorker = await buildSnapshot(kv, "plt_s", "2026-11", NOW, { kvPath: path });
    assert.equal(withWorker.size, 3000);
    assert.deepEqual(withWorker.page({ limit: 3000 }), inThread.page({ limit: 3000 }));
    for (const tier of ["free", "pro", "team"]) {
      assert.deepEqual(withWorker.tierCounts(tier), inThread.tierCounts(tier), tier);
      assert.equal(withWorker.tierCounts(tier).length, 1000, tier);
    }
    kv.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("user ids compare in Deno KV's order, also beyond U+FFFF", async () => {
  await using kv = await Deno.openKv(":memory:");
  const ids = ["a", "ab", "b", "\u{1F600}", "\uFFFD", "\uE000", "Z", "é", ""];
  for (const id of ids) await kv.set(["t", id], 1);
  const kvOrder: string[] = [];
  for await (const e of kv.list({ prefix: ["t"] })) kvOrder.push(e.key[1] as string);
  assert.deepEqual([...ids].sort(compareKeyStrings), kvOrder);
});

Deno.test("a cursor resumes exactly after its row when many end-users share a count", async () => {
  await using kv = await Deno.openKv(":memory:");
  for (let i = 0; i < 250; i++) {
    await kv.set(keys.usage("plt_t", "2026-11", `u${String(i).padStart(3, "0")}`), i % 2 ? 5 : 9);
  }
  const snap = await buildSnapshot(kv, "plt_t", "2026-11", NOW);
  const seen: string[] = [];
  let after;
  for (;;) {
    const { rows, more } = snap.page({ limit: 7, after });
    seen.push(...rows.map((r) => r.userId));
    if (!more) break;
    after = { count: rows.at(-1)!.count, userId: rows.at(-1)!.userId };
  }
  assert.equal(seen.length, 250);
  assert.equal(new Set(seen).size, 250);
  assert.deepEqual(seen.slice(0, 2), ["u000", "u002"]);
  assert.deepEqual(seen.slice(125, 127), ["u001", "u003"]);
});

Deno.test("the cache reuses a fresh snapshot, serves a stale one while rebuilding, shares builds", async () => {
  await using kv = await Deno.openKv(":memory:");
  await kv.set(keys.usage("plt_c", "2026-11", "a"), 1);
  let clock = 0;
  const cache = new SnapshotCache({ freshMs: 1000, staleMs: 5000, clock: () => clock });
  const [one, two] = await Promise.all([
    cache.get(kv, "plt_c", "2026-11", NOW),
    cache.get(kv, "plt_c", "2026-11", NOW),
  ]);
  assert.equal(one, two, "concurrent requests share one build");
  await kv.set(keys.usage("plt_c", "2026-11", "b"), 1);
  clock = 500;
  assert.equal((await cache.get(kv, "plt_c", "2026-11", NOW)).size, 1, "fresh: reused");
  clock = 2000;
  assert.equal((await cache.get(kv, "plt_c", "2026-11", NOW)).size, 1, "stale: served at once");
  await cache.idle(); // the background rebuild lands
  assert.equal((await cache.get(kv, "plt_c", "2026-11", NOW)).size, 2, "then the rebuilt one");
  clock = 60_000;
  await kv.set(keys.usage("plt_c", "2026-11", "c"), 1);
  assert.equal((await cache.get(kv, "plt_c", "2026-11", NOW)).size, 3, "too old: rebuilt first");
});
