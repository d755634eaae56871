/**
 * The usage meter against a real Deno KV file, under real concurrency: every count() below is in
 * flight at the same time as the others unless the test awaits it.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import {
  type CountRequest,
  type CountResult,
  MeterClosedError,
  shardOf,
} from "../../lib/usage/meter.ts";
import { countFingerprint } from "../../lib/usage/decide.ts";
import { type Period, periodOf } from "../../lib/usage/period.ts";
import { DEC, meterWorld, NOV, req } from "./_kv.ts";
import { countOf, type StoredCount } from "../../lib/kv/usage.ts";

async function usageIn(kv: Deno.Kv, userId: string, period: Period = NOV, platformId = "plt_test") {
  return countOf((await kv.get<StoredCount>(keys.usage(platformId, period.key, userId))).value);
}

/** A small deterministic PRNG, so a failing run can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What exact counting must answer for requests that arrive in this order (one process). */
function simulate(requests: CountRequest[]): { ok: boolean; count: number }[] {
  const counts = new Map<string, number>();
  return requests.map((r) => {
    const id = `${r.platformId}/${r.period.key}/${r.userId}`;
    const before = counts.get(id) ?? 0;
    const ok = r.limit === null || before + r.amount <= r.limit;
    if (ok) counts.set(id, before + r.amount);
    return { ok, count: ok ? before + r.amount : before };
  });
}

Deno.test("many end-users counted at once: each answer is what exact counting in arrival order gives, and KV agrees", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const random = prng(1);
  const requests = Array.from(
    { length: 3000 },
    () =>
      req(`user-${Math.floor(random() * 300)}`, {
        limit: 20,
        amount: 1 + Math.floor(random() * 4),
      }),
  );
  const results = await Promise.all(requests.map((r) => meter.count(r)));
  const expected = simulate(requests);
  results.forEach((r, i) => {
    assert.deepEqual({ ok: r.ok, count: r.count }, expected[i], `request ${i}`);
  });
  const finals = new Map<string, number>();
  requests.forEach((r, i) => finals.set(r.userId, expected[i].count));
  for (const [userId, count] of finals) assert.equal(await usageIn(kv, userId), count, userId);
  assert.ok(meter.stats.commits < 3000 / 10, `${meter.stats.commits} commits: no batching?`);
});

Deno.test("a counter stored as a number (files of earlier versions) keeps counting from its value, then is a KvU64", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  await kv.set(keys.usage("plt_test", NOV.key, "legacy"), 8);
  assert.equal(await meter.read("plt_test", NOV, "legacy"), 8);
  const granted = await meter.count(req("legacy", { limit: 10, amount: 2 }));
  assert.deepEqual([granted.ok, granted.count], [true, 10]);
  const refused = await meter.count(req("legacy", { limit: 10, amount: 1 }));
  assert.deepEqual([refused.ok, refused.count], [false, 10]);
  await meter.close();
  const stored = (await kv.get(keys.usage("plt_test", NOV.key, "legacy"))).value;
  assert.ok(stored instanceof Deno.KvU64, `stored ${stored}`);
  assert.equal(stored.value, 10n);
});

Deno.test("one hot end-user: exactly the limit is granted, in arrival order, and the rest refused", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const results = await Promise.all(
    Array.from({ length: 1000 }, () => meter.count(req("hot", { limit: 100 }))),
  );
  assert.deepEqual(
    results.slice(0, 100).map((r) => [r.ok, r.count]),
    Array.from({ length: 100 }, (_, i) => [true, i + 1]),
  );
  assert.ok(results.slice(100).every((r) => !r.ok && r.count === 100 && r.limit === 100));
  assert.equal(await usageIn(kv, "hot"), 100);
});

Deno.test("limit boundaries: an amount that exactly fills the limit is granted, one more unit is not", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const [a, b, c, d, zero, u1, u2] = await Promise.all([
    meter.count(req("edge", { limit: 10, amount: 7 })),
    meter.count(req("edge", { limit: 10, amount: 4 })), // 11 > 10: refused
    meter.count(req("edge", { limit: 10, amount: 3 })), // exactly 10
    meter.count(req("edge", { limit: 10, amount: 1 })),
    meter.count(req("nothing-allowed", { limit: 0, amount: 1 })),
    meter.count(req("unlimited", { limit: null, amount: 1_000_000 })),
    meter.count(req("unlimited", { limit: null, amount: 1_000_000 })),
  ]);
  assert.deepEqual([a.ok, a.count], [true, 7]);
  assert.deepEqual([b.ok, b.count], [false, 7]);
  assert.deepEqual([c.ok, c.count], [true, 10]);
  assert.deepEqual([d.ok, d.count], [false, 10]);
  assert.deepEqual([zero.ok, zero.count], [false, 0]);
  assert.deepEqual([u1.ok, u1.count, u2.ok, u2.count, u2.limit], [true, 1e6, true, 2e6, null]);
  assert.equal(await usageIn(kv, "edge"), 10);
  assert.equal(
    (await kv.get(keys.usage("plt_test", NOV.key, "nothing-allowed"))).versionstamp,
    null,
  );
  assert.equal(await usageIn(kv, "unlimited"), 2_000_000);
});

Deno.test("idempotency: repeats inside one batch count once and all get the first answer", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const k = { idempotencyKey: "order-1", amount: 2 };
  const results = await Promise.all([
    meter.count(req("u", k)),
    meter.count(req("u")), // plain: 3
    meter.count(req("u", k)),
    meter.count(req("u")), // plain: 4
    ...Array.from({ length: 20 }, () => meter.count(req("u", k))),
  ]);
  assert.equal(meter.stats.commits, 1, "all in one commit");
  assert.deepEqual(results.map((r) => [r.count, r.replayed]), [
    [2, false],
    [3, false],
    [2, true],
    [4, false],
    ...Array.from({ length: 20 }, () => [2, true]),
  ]);
  assert.equal(await usageIn(kv, "u"), 4);
});

Deno.test("idempotency: a repeat in a later batch, or through another meter, replays and counts nothing", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [kv1] = w.handles;
  const [m1, m2] = w.meters;
  const first = await m1.count(req("u", { idempotencyKey: "pay-9", amount: 5 }));
  const again = await m1.count(req("u", { idempotencyKey: "pay-9", amount: 5 }));
  const elsewhere = await m2.count(req("u", { idempotencyKey: "pay-9", amount: 5 }));
  assert.deepEqual(first, { ...first, ok: true, count: 5, replayed: false });
  assert.deepEqual(again, { ...first, replayed: true });
  assert.deepEqual(elsewhere, { ...first, replayed: true });
  // Concurrent repeats through both meters at once: still once.
  const racing = await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) => (i % 2 ? m1 : m2).count(req("u", { idempotencyKey: "pay-10", amount: 1 })),
    ),
  );
  assert.equal(racing.filter((r) => !r.replayed).length, 1);
  assert.ok(racing.every((r) => r.ok && r.count === 6), JSON.stringify(racing));
  assert.equal(await usageIn(kv1, "u"), 6);
});

Deno.test("idempotency: a refusal is not remembered, so a repeat that now fits is granted once", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  await meter.count(req("u", { limit: 1 }));
  const k = { idempotencyKey: "upgrade" };
  const refused = await meter.count(req("u", { ...k, limit: 1 }));
  assert.deepEqual([refused.ok, refused.count, refused.replayed], [false, 1, false]);
  // Same batch: a refused first try, then a try under a bigger limit, then a repeat.
  const [r1, r2, r3] = await Promise.all([
    meter.count(req("u", { ...k, limit: 1 })),
    meter.count(req("u", { ...k, limit: 5 })),
    meter.count(req("u", { ...k, limit: 1 })),
  ]);
  assert.deepEqual([r1.ok, r1.replayed], [false, false]);
  assert.deepEqual([r2.ok, r2.count, r2.replayed], [true, 2, false]);
  assert.deepEqual([r3.ok, r3.count, r3.replayed, r3.limit], [true, 2, true, 5]);
  assert.equal(await usageIn(kv, "u"), 2);
});

Deno.test("period boundary inside one batch: each period counts on its own, an idempotency key counts once", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const results = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) => meter.count(req("u", { period: i % 2 ? DEC : NOV, limit: 3 })),
    ),
  );
  assert.deepEqual(results.map((r) => [r.period.start.slice(0, 7), r.ok, r.count]), [
    ["2026-11", true, 1],
    ["2026-12", true, 1],
    ["2026-11", true, 2],
    ["2026-12", true, 2],
    ["2026-11", true, 3],
    ["2026-12", true, 3],
    ["2026-11", false, 3],
    ["2026-12", false, 3],
    ["2026-11", false, 3],
    ["2026-12", false, 3],
  ]);
  assert.equal(await usageIn(kv, "u", NOV), 3);
  assert.equal(await usageIn(kv, "u", DEC), 3);

  const [late, early] = await Promise.all([
    meter.count(req("v", { period: NOV, idempotencyKey: "midnight" })),
    meter.count(req("v", { period: DEC, idempotencyKey: "midnight" })),
  ]);
  assert.deepEqual([late.replayed, early.replayed, early.count], [false, true, 1]);
  assert.equal((await usageIn(kv, "v", NOV)) + (await usageIn(kv, "v", DEC)), 1);
});

Deno.test("idempotency across a period boundary stays once when two meters race on it", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [kv1] = w.handles;
  const [m1, m2] = w.meters;
  for (let round = 0; round < 20; round++) {
    const key = `midnight-${round}`;
    const results = await Promise.all([
      m1.count(req("w", { period: NOV, idempotencyKey: key, limit: null })),
      m2.count(req("w", { period: DEC, idempotencyKey: key, limit: null })),
    ]);
    assert.equal(results.filter((r) => !r.replayed).length, 1, `round ${round}`);
  }
  assert.equal((await usageIn(kv1, "w", NOV)) + (await usageIn(kv1, "w", DEC)), 20);
});

for (const readHandles of [false, true]) {
  const how = readHandles ? ", each reading through a handle of its own" : "";
  Deno.test(`two meters on two handles of one KV file${how} grant exactly the limit and count every grant`, async () => {
    await using w = await meterWorld({ meters: 2, readHandles });
    const [kv1, kv2] = w.handles;
    const meters = w.meters;
    const random = prng(2);
    const requests = Array.from(
      { length: 4000 },
      (_, i) =>
        i % 2 === 0
          ? req("hot", { limit: 700 })
          : req(`spread-${Math.floor(random() * 200)}`, { limit: null }),
    );
    const results = await Promise.all(
      requests.map((r, i) => meters[Math.floor(random() * 2)].count(r).then((res) => ({ i, res }))),
    );
    const hot = results.filter(({ i }) => requests[i].userId === "hot").map(({ res }) => res);
    assert.equal(hot.filter((r) => r.ok).length, 700);
    assert.deepEqual(
      hot.filter((r) => r.ok).map((r) => r.count).sort((a, b) => a - b),
      Array.from({ length: 700 }, (_, i) => i + 1),
      "every granted count value appears exactly once across both meters",
    );
    assert.equal(await usageIn(kv1, "hot"), 700);
    const spread = new Map<string, CountResult[]>();
    for (const { i, res } of results) {
      if (requests[i].userId === "hot") continue;
      spread.set(requests[i].userId, [...spread.get(requests[i].userId) ?? [], res]);
    }
    for (const [userId, rs] of spread) {
      assert.equal(await usageIn(kv2, userId), rs.length, userId);
      assert.deepEqual(
        rs.map((r) => r.count).sort((a, b) => a - b),
        Array.from({ length: rs.length }, (_, i) => i + 1),
        userId,
      );
    }
  });
}

Deno.test("a meter whose cached counts went stale notices the other meter's writes", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [kv1] = w.handles;
  const [a, b] = w.meters;
  for (let i = 0; i < 5; i++) await a.count(req("u", { limit: 10 }));
  for (let i = 0; i < 4; i++) await b.count(req("u", { limit: 10 }));
  const next = await a.count(req("u", { limit: 10 }));
  assert.deepEqual([next.ok, next.count], [true, 10]);
  const over = await a.count(req("u", { limit: 10 }));
  assert.deepEqual([over.ok, over.count], [false, 10]);
  // A neighbour in the same shard moved the guard; the refusal above must not have been cached as 9.
  assert.equal(await usageIn(kv1, "u"), 10);
});

Deno.test("tiny caches (2 counters, 1 guard) evict constantly and still count exactly across two meters", async () => {
  const options = { cacheSize: 2, guardCacheSize: 1, shards: 4 };
  await using w = await meterWorld({ meters: 2, options });
  const [kv1] = w.handles;
  const meters = w.meters;
  const random = prng(3);
  const granted = new Map<string, number[]>();
  for (let round = 0; round < 10; round++) {
    const requests = Array.from(
      { length: 200 },
      () => req(`u${Math.floor(random() * 40)}`, { limit: 30 }),
    );
    const results = await Promise.all(
      requests.map((r) => meters[Math.floor(random() * 2)].count(r)),
    );
    results.forEach((res, i) => {
      if (res.ok) {
        granted.set(requests[i].userId, [...granted.get(requests[i].userId) ?? [], res.count]);
      }
    });
  }
  for (const [userId, counts] of granted) {
    counts.sort((a, b) => a - b);
    assert.deepEqual(counts, Array.from({ length: counts.length }, (_, i) => i + 1), userId);
    assert.equal(await usageIn(kv1, userId), counts.length, userId);
    assert.ok(counts.length <= 30);
  }
});

Deno.test("denokv limits: with 50+ shards in one batch every commit has ≤ 10 checks and ≤ 1,000 mutations", async () => {
  await using w = await meterWorld({ audited: true, options: { shards: 64 } });
  const { kv: real, meter, commits } = w;
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  assert.ok(new Set(users.map((u) => shardOf(u, 64))).size >= 50);
  const results = await Promise.all(users.map((u) => meter.count(req(u))));
  assert.ok(results.every((r) => r.ok && r.count === 1));
  assert.ok(commits.length >= 5, `${commits.length} commits for ≥ 50 shards`);
  assert.ok(commits.every((c) => c.checks <= 10 && c.mutations <= 1000), JSON.stringify(commits));
  assert.equal(Math.max(...commits.map((c) => c.checks)), 10, "groups are packed 10 to a commit");
  for (const u of users.slice(0, 20)) assert.equal(await usageIn(real, u), 1);
});

Deno.test("denokv limits: a large batch of long ids with idempotency keys stays within mutations and key bytes", async () => {
  // One shard puts a whole batch into one commit. 256-character user ids and 255-character
  // idempotency keys: the local KV itself refuses any commit over 80 KiB of keys, so a wrong
  // size budget fails here with a TypeError.
  await using w = await meterWorld({ audited: true, options: { shards: 1, maxBatch: 5000 } });
  const { kv: real, meter, commits } = w;
  const userOf = (i: number) => `${i}-`.padEnd(256, "x");
  const requests = Array.from(
    { length: 1200 },
    (_, i) => req(userOf(i % 600), { idempotencyKey: `${i}-`.padEnd(255, "k"), limit: null }),
  );
  const results = await Promise.all(requests.map((r) => meter.count(r)));
  assert.ok(results.every((r) => r.ok && !r.replayed));
  assert.ok(commits.every((c) => c.checks <= 10 && c.mutations <= 1000), JSON.stringify(commits));
  for (const i of [0, 299, 599]) assert.equal(await usageIn(real, userOf(i)), 2);
  // Short ids: one batch of 2,000 with keys is bounded by mutations, not by key bytes.
  const short = await Promise.all(
    Array.from(
      { length: 2000 },
      (_, i) => meter.count(req(`s${i}`, { idempotencyKey: `k${i}`, limit: null })),
    ),
  );
  assert.ok(short.every((r) => r.ok));
  assert.ok(commits.every((c) => c.checks <= 10 && c.mutations <= 1000), JSON.stringify(commits));
});

Deno.test("close() commits and answers every count already taken, then refuses new ones", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const taken = Array.from(
    { length: 500 },
    (_, i) => meter.count(req(`u${i % 50}`, { limit: null })),
  );
  await meter.close();
  const results = await Promise.all(taken);
  assert.ok(results.every((r) => r.ok));
  assert.equal(await usageIn(kv, "u0"), 10);
  await assert.rejects(meter.count(req("late")), MeterClosedError);
});

Deno.test("beforeCommit adds its mutations to the very commit that grants or refuses", async () => {
  await using w = await meterWorld();
  const kv = w.kv;
  let committed = 0;
  const meter = w.meterOn(kv, {
    beforeCommit(op, decided) {
      const total = decided.reduce((sum, d) => sum + (d.ok ? d.req.amount : 0), 0);
      const refused = decided.filter((d) => !d.ok).length;
      if (total > 0) op.sum(["test_total"], BigInt(total));
      if (refused > 0) op.sum(["test_refused"], BigInt(refused));
      return () => committed++;
    },
  });
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => meter.count(req(`u${i % 7}`, { limit: 20, amount: 2 }))),
  );
  const total = (await kv.get<Deno.KvU64>(["test_total"])).value?.value;
  const refused = (await kv.get<Deno.KvU64>(["test_refused"])).value?.value;
  assert.equal(total, 7n * 20n);
  assert.equal(refused, 300n - 7n * 10n);
  assert.equal(committed, meter.stats.commits - meter.stats.conflicts);
});

Deno.test("read() answers what KV holds, also after another meter's writes", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [a, b] = w.meters;
  for (let i = 0; i < 3; i++) await a.count(req("u", { limit: null }));
  assert.equal(await a.read("plt_test", NOV, "u"), 3);
  for (let i = 0; i < 2; i++) await b.count(req("u", { limit: null }));
  assert.equal(await a.read("plt_test", NOV, "u"), 5, "the cached 3 must not be answered");
  assert.equal(await a.read("plt_test", NOV, "never-counted"), 0);
  assert.equal(await b.read("plt_test", DEC, "u"), 0);
});

Deno.test("reads asked together share KV reads: one guard read confirms every cached count of a shard", async () => {
  await using w = await meterWorld({ options: { shards: 8 } });
  const { meter } = w;
  const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
  await Promise.all(users.map((u, i) => meter.count(req(u, { limit: null, amount: i + 1 }))));
  const before = meter.stats.reads;
  const counts = await Promise.all(users.map((u) => meter.read("plt_test", NOV, u)));
  assert.deepEqual(counts, users.map((_, i) => i + 1));
  assert.equal(meter.stats.reads - before, 1, "8 guards in one getMany");
});

Deno.test("a read asked after a 200 never answers less than that 200's count, while two meters write", async () => {
  await using w = await meterWorld({ meters: 2, readHandles: true });
  const { handles, meters } = w;
  const random = prng(4);
  const checks: Promise<void>[] = [];
  await Promise.all(Array.from({ length: 600 }, async (_, i) => {
    const user = `u${i % 5}`;
    const writer = meters[Math.floor(random() * 2)];
    const reader = meters[Math.floor(random() * 2)];
    const answer = await writer.count(req(user, { limit: null }));
    checks.push(
      reader.read("plt_test", NOV, user).then((seen) => {
        assert.ok(
          seen >= answer.count,
          `${user}: read ${seen} after a 200 with count ${answer.count}`,
        );
      }),
    );
  }));
  await Promise.all(checks);
  for (let u = 0; u < 5; u++) {
    const inKv = await usageIn(handles[0], `u${u}`);
    assert.equal(inKv, 120);
    for (const m of meters) assert.equal(await m.read("plt_test", NOV, `u${u}`), inKv);
  }
});

Deno.test("idempotency: a key reused with another amount in the same batch is a conflict and counts nothing; the same amount still replays", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const decided: number[] = [];
  const analytics = w.meterOn(kv, {
    beforeCommit: (_op, ds) => void decided.push(...ds.map((d) => d.req.amount)),
  });
  for (const m of [meter, analytics]) {
    const user = m === meter ? "u" : "w";
    const results = await Promise.all([
      m.count(req(user, { idempotencyKey: "order-1", amount: 2 })),
      m.count(req(user, { idempotencyKey: "order-1", amount: 3 })),
      m.count(req(user, { idempotencyKey: "order-1", amount: 2 })),
      m.count(req(user, { idempotencyKey: "order-1", amount: 3 })),
    ]);
    assert.deepEqual(
      results.map((r) => [r.ok, r.count, r.replayed, r.conflict ?? false]),
      [[true, 2, false, false], [false, 2, false, true], [true, 2, true, false], [
        false,
        2,
        false,
        true,
      ]],
    );
    assert.equal(await usageIn(kv, user), 2);
  }
  assert.deepEqual(decided, [2], "a conflict is neither granted nor refused (analytics)");
});

Deno.test("idempotency: a key reused with another amount in a later batch, or after a restart, is a conflict", async () => {
  await using w = await meterWorld();
  let { kv, meter } = w;
  const first = await meter.count(req("u", { idempotencyKey: "pay-1", amount: 5 }));
  assert.deepEqual([first.ok, first.count, first.conflict], [true, 5, undefined]);
  const other = await meter.count(req("u", { idempotencyKey: "pay-1", amount: 6 }));
  assert.deepEqual([other.ok, other.replayed, other.conflict], [false, false, true]);
  // Another end-user or platform with the same key is another operation.
  const v = await meter.count(req("v", { idempotencyKey: "pay-1", amount: 6 }));
  const p = await meter.count(
    req("u", { idempotencyKey: "pay-1", amount: 6, platformId: "plt_2" }),
  );
  assert.deepEqual([v.ok, v.count, p.ok, p.count], [true, 6, true, 6]);
  await meter.close();
  kv.close();

  kv = await w.open();
  meter = w.meterOn(kv);
  const afterRestart = await meter.count(req("u", { idempotencyKey: "pay-1", amount: 7 }));
  assert.deepEqual([afterRestart.ok, afterRestart.conflict], [false, true]);
  const replay = await meter.count(req("u", { idempotencyKey: "pay-1", amount: 5 }));
  assert.deepEqual(replay, { ...first, replayed: true });
  assert.equal(await usageIn(kv, "u"), 5);
});

Deno.test("idempotency: two meters on one KV file racing one key with different amounts count exactly one of them", async () => {
  await using w = await meterWorld({ meters: 2 });
  const [kv1] = w.handles;
  const meters = w.meters;
  for (let round = 0; round < 30; round++) {
    const key = `race-${round}`;
    const results = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) =>
          meters[i % 2].count(req("r", { idempotencyKey: key, amount: 1 + (i % 3), limit: null })),
      ),
    );
    const granted = results.filter((r) => r.ok && !r.replayed);
    assert.equal(granted.length, 1, `round ${round}: ${JSON.stringify(results)}`);
    const amount = 1 + (results.indexOf(granted[0]) % 3);
    results.forEach((r, i) => {
      if (1 + (i % 3) === amount) assert.ok(r.ok && !r.conflict, `round ${round}, call ${i}`);
      else assert.ok(!r.ok && r.conflict, `round ${round}, call ${i}: ${JSON.stringify(r)}`);
    });
  }
  const total = await usageIn(kv1, "r");
  assert.ok(total >= 30 && total <= 90, `${total}`);
});

Deno.test("idempotency: a record written before fingerprints (none stored) still replays", async () => {
  await using w = await meterWorld();
  const { kv, meter } = w;
  const legacy = {
    ok: true,
    replayed: false,
    count: 4,
    limit: 100,
    plan: "free",
    period: { start: NOV.start.toISOString(), end: NOV.end.toISOString() },
    expiresAt: Date.now() + 60_000,
  };
  await kv.set(keys.idempotency("plt_test", "u", "old-key"), legacy);
  const again = await meter.count(req("u", { idempotencyKey: "old-key", amount: 9 }));
  const { expiresAt: _, ...answer } = legacy;
  assert.deepEqual(again, { ...answer, replayed: true });
  assert.equal(await usageIn(kv, "u"), 0);
});

Deno.test("the request fingerprint covers platform, end-user and amount, and is stable across versions (it is stored)", () => {
  const base = req("u", { amount: 3 });
  const fp = countFingerprint(base);
  const other: CountRequest = { ...base, plan: "pro", limit: 5, period: DEC };
  assert.equal(fp, countFingerprint(other), "plan, limit and period do not change what is counted");
  assert.notEqual(fp, countFingerprint({ ...base, amount: 4 }));
  assert.notEqual(fp, countFingerprint({ ...base, userId: "v" }));
  assert.notEqual(fp, countFingerprint({ ...base, platformId: "plt_other" }));
  // Pinned: records stored by one version are compared by the next one.
  assert.equal(fp, "8e56a840afcfbf00");
});

Deno.test("a feature counts on its own counter: exact under concurrency, apart from the main meter and other features", async () => {
  await using w = await meterWorld();
  const calls = Array.from({ length: 300 }, (_, i) =>
    w.meter.count(req("u", {
      limit: i % 3 === 2 ? 100 : 25,
      feature: i % 3 === 0 ? "exports" : i % 3 === 1 ? "seats" : undefined,
    })));
  const results = await Promise.all(calls);
  const granted = (k: number) => results.filter((r, i) => i % 3 === k && r.ok).length;
  assert.deepEqual([granted(0), granted(1), granted(2)], [25, 25, 100]);
  const feature = async (f: string) =>
    countOf((await w.kv.get<StoredCount>(keys.usageFeature("plt_test", f, NOV.key, "u"))).value);
  assert.equal(await feature("exports"), 25);
  assert.equal(await feature("seats"), 25);
  assert.equal(await usageIn(w.kv, "u"), 100);
  assert.equal(await w.meter.read("plt_test", NOV, "u", "exports"), 25);
  assert.equal(await w.meter.read("plt_test", NOV, "u"), 100);
});

Deno.test("a feature with a daily period counts per day while the main meter counts per month", async () => {
  await using w = await meterWorld();
  const day = periodOf("day", new Date("2026-11-15T12:00:00Z"));
  const next = periodOf("day", new Date("2026-11-16T12:00:00Z"));
  for (let i = 0; i < 3; i++) {
    await w.meter.count(req("u", { feature: "f", period: day, limit: 2 }));
  }
  const tomorrow = await w.meter.count(req("u", { feature: "f", period: next, limit: 2 }));
  assert.equal(tomorrow.ok, true);
  assert.equal(tomorrow.count, 1);
  assert.equal(await w.meter.read("plt_test", day, "u", "f"), 2);
});

Deno.test("idempotency: a key reused for another feature (or none) is a conflict; the same feature replays", async () => {
  await using w = await meterWorld();
  const first = await w.meter.count(req("u", { feature: "exports", idempotencyKey: "k" }));
  assert.equal(first.ok, true);
  const again = await w.meter.count(req("u", { feature: "exports", idempotencyKey: "k" }));
  assert.equal(again.replayed, true);
  const other = await w.meter.count(req("u", { feature: "seats", idempotencyKey: "k" }));
  assert.equal(other.conflict, true);
  const none = await w.meter.count(req("u", { idempotencyKey: "k" }));
  assert.equal(none.conflict, true);
  assert.equal(await w.meter.read("plt_test", NOV, "u", "exports"), 1);
  assert.equal(await w.meter.read("plt_test", NOV, "u", "seats"), 0);
  assert.equal(await usageIn(w.kv, "u"), 0);
});

Deno.test("the fingerprint covers the feature when one is named, and is unchanged without one", () => {
  const base = req("u", { amount: 3 });
  assert.equal(
    countFingerprint(base),
    "8e56a840afcfbf00",
    "records without a feature keep matching",
  );
  const f = countFingerprint({ ...base, feature: "exports" });
  assert.notEqual(f, countFingerprint(base));
  assert.notEqual(f, countFingerprint({ ...base, feature: "seats" }));
  assert.equal(f, countFingerprint({ ...base, feature: "exports" }));
});

Deno.test("a locked database is contention, not work: the attempt runs again and the stats count only what KV answered", async () => {
  await using w = await meterWorld();
  // Another handle of the file holding SQLite's write lock, once on a read and once on a commit.
  let lockRead = true, lockCommit = true;
  const locked = () => Promise.reject(new Error("database is locked"));
  const kv = new Proxy(w.kv, {
    get(target, prop) {
      if (prop === "getMany") {
        return (...args: Parameters<Deno.Kv["getMany"]>) =>
          lockRead ? (lockRead = false, locked()) : target.getMany(...args);
      }
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => lockCommit ? (lockCommit = false, locked()) : commit();
          return op;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const meter = w.meterOn(kv, { events: false });
  const result = await meter.count(req("u"));
  assert.equal(result.ok, true);
  assert.equal(await usageIn(w.kv, "u"), 1);
  assert.deepEqual(meter.stats, { commits: 1, conflicts: 0, reads: 1, transient: 2 });
});
