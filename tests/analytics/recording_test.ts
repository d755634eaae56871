/**
 * Analytics recorded inside the meter's commits: exact under concurrency (also with two meters
 * racing on one KV file), within denokv's commit limits, and the tier of each end-user's period.
 */
import assert from "node:assert/strict";
import { HLL_REGISTERS, hllEstimate, hllSlot } from "../../lib/analytics/hll.ts";
import { dayOf, UsageRecorder } from "../../lib/analytics/recorder.ts";
import { keys } from "../../lib/kv/keys.ts";
import { KV_LIMITS } from "../../lib/kv/packing.ts";
import { UsageMeter } from "../../lib/usage/meter.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { json, type TestApp, testApp } from "../_helpers/app.ts";
import { get, paidFounderWithPlatform, track } from "./_world.ts";
import { countOf, type StoredCount } from "../../lib/kv/usage.ts";

const NOW = new Date("2026-11-15T12:00:00.000Z");

async function usageOf(t: TestApp, founder: Awaited<ReturnType<typeof paidFounderWithPlatform>>) {
  const res = await get(t, founder, "/dashboard/api/usage?period=current");
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  return body;
}

Deno.test("concurrent calls: allowed + refused = calls, units = the granted amounts, active users exact", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  // 40 end-users on 'free' (limit 100) and 'pro' (limit 1000), 1,600 calls of 1–9 units at once:
  // many users run into their limit, so the batches mix grants and refusals.
  const calls = Array.from({ length: 1600 }, (_, i) => ({
    userId: `u${i % 40}`,
    amount: 1 + (i * 7) % 9,
    plan: i % 40 < 30 ? "free" : "pro",
  }));
  const statuses = await Promise.all(
    calls.map((c) => track(t, founder.apiKey, c.userId, { amount: c.amount, plan: c.plan })),
  );
  assert.ok(statuses.every((s) => s === 200 || s === 429), String(new Set(statuses)));
  const allowed = statuses.filter((s) => s === 200).length;
  const refused = statuses.filter((s) => s === 429).length;
  const units = calls.reduce((sum, c, i) => sum + (statuses[i] === 200 ? c.amount : 0), 0);
  const counted = new Set(calls.filter((_, i) => statuses[i] === 200).map((c) => c.userId));
  assert.ok(refused > 100 && allowed > 100, `a mix is needed: ${allowed} / ${refused}`);

  const body = await usageOf(t, founder);
  assert.deepEqual(body.totals, { units, allowed, refused, activeUsers: counted.size });
  assert.equal(allowed + refused, calls.length);
  const today = body.daily.find((d: { date: string }) => d.date === "2026-11-15");
  assert.deepEqual(
    { units: today.units, allowed: today.allowed, refused: today.refused },
    { units, allowed, refused },
  );
  // Approximate by design; for a few dozen users linear counting lands within a couple.
  assert.ok(Math.abs(today.activeUsers - counted.size) <= 3, `${today.activeUsers}`);
  // The end-users' counts add up to the units, and each is the meter's own count.
  const listed = body.users as { userId: string; count: number; plan: string }[];
  assert.equal(listed.reduce((s, u) => s + u.count, 0), units);
  for (const u of listed) {
    const counter = await t.kv.get<StoredCount>(
      keys.usage(founder.platformId, "2026-11", u.userId),
    );
    assert.ok(counter.value instanceof Deno.KvU64, "counters are stored as KvU64");
    assert.equal(u.count, countOf(counter.value), u.userId);
    assert.equal(u.plan, Number(u.userId.slice(1)) < 30 ? "free" : "pro", u.userId);
  }
});

Deno.test("an idempotent replay is one call: it is not counted as allowed twice", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const statuses = await Promise.all(
    Array.from({ length: 20 }, () => track(t, founder.apiKey, "alice", { idempotencyKey: "k1" })),
  );
  assert.ok(statuses.every((s) => s === 200));
  assert.equal(await track(t, founder.apiKey, "alice", { idempotencyKey: "k1" }), 200);
  const body = await usageOf(t, founder);
  assert.deepEqual(body.totals, { units: 1, allowed: 1, refused: 0, activeUsers: 1 });
});

Deno.test("two meters racing on one KV file record exactly what they granted and refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kv.sqlite`;
    const kvs = [await Deno.openKv(path), await Deno.openKv(path)];
    const meters = kvs.map((kv) =>
      new UsageMeter(kv, new UsageRecorder({ now: () => NOW }).meterOptions())
    );
    const period = periodOf("month", NOW);
    // Each round is a fresh platform; rounds repeat until the two meters have really raced
    // (timing decides whether their commits collide), and every round must be exact.
    for (let round = 0; round < 10; round++) {
      const platformId = `plt_race${round}`;
      const requests = Array.from({ length: 1200 }, (_, i) => ({
        platformId,
        userId: `u${i % 25}`,
        plan: "free",
        period,
        limit: 60,
        amount: 1 + (i % 3),
      }));
      const results = await Promise.all(requests.map((r, i) => meters[i % 2].count(r)));
      const granted = results.filter((r) => r.ok);
      const units = requests.reduce((s, r, i) => s + (results[i].ok ? r.amount : 0), 0);
      const sum = async (metric: "units" | "allowed" | "refused") =>
        (await kvs[0].get<Deno.KvU64>(keys.usageDailyMetric(platformId, "2026-11-15", metric)))
          .value?.value;
      assert.equal(await sum("units"), BigInt(units));
      assert.equal(await sum("allowed"), BigInt(granted.length));
      assert.equal(await sum("refused"), BigInt(requests.length - granted.length));
      const active = await kvs[0].get<Deno.KvU64>(keys.usageActive(platformId, "2026-11"));
      assert.equal(active.value?.value, 25n, "each end-user's first units are counted once");
      if (meters.some((m) => m.stats.conflicts > 0)) break;
    }
    const conflicts = meters.reduce((s, m) => s + m.stats.conflicts, 0);
    assert.ok(conflicts > 0, "the meters must have raced (retried commits) for this to mean much");
    for (const m of meters) await m.close();
    for (const kv of kvs) kv.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recording keeps every commit within denokv's limits when each request is another platform", async () => {
  await using t = await testApp();
  const kv = t.kv;
  let largest = { mutations: 0, checks: 0 };
  const atomic = kv.atomic.bind(kv);
  // Count what each commit carries by wrapping the atomic operation the meter builds.
  kv.atomic = () => {
    const op = atomic();
    const seen = { mutations: 0, checks: 0 };
    for (const name of ["set", "sum", "max", "min", "delete"] as const) {
      const original = op[name].bind(op) as (...args: unknown[]) => Deno.AtomicOperation;
      (op as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        seen.mutations++;
        original(...args);
        return op;
      };
    }
    const check = op.check.bind(op);
    op.check = (...checks) => {
      seen.checks += checks.length;
      return check(...checks);
    };
    const commit = op.commit.bind(op);
    op.commit = () => {
      if (seen.mutations > largest.mutations) largest = { ...largest, mutations: seen.mutations };
      if (seen.checks > largest.checks) largest = { ...largest, checks: seen.checks };
      return commit();
    };
    return op;
  };
  const meter = new UsageMeter(kv, new UsageRecorder({ now: () => NOW }).meterOptions());
  const period = periodOf("month", NOW);
  const results = await Promise.all(Array.from({ length: 400 }, (_, i) =>
    meter.count({
      platformId: `plt_${i}`,
      userId: `user-${"x".repeat(200)}-${i}`,
      plan: "free",
      period,
      limit: 10,
      amount: 1,
      idempotencyKey: `key-${"k".repeat(200)}-${i}`,
    })));
  assert.ok(results.every((r) => r.ok));
  assert.ok(largest.mutations <= KV_LIMITS.mutations, JSON.stringify(largest));
  assert.ok(largest.checks <= KV_LIMITS.checks, JSON.stringify(largest));
  const allowed = await kv.get<Deno.KvU64>(
    keys.usageDailyMetric("plt_399", "2026-11-15", "allowed"),
  );
  assert.equal(allowed.value?.value, 1n);
  await meter.close();
});

Deno.test("the tier recorded for an end-user is the one of their latest counted call, per period", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  assert.equal(await track(t, founder.apiKey, "bob"), 200);
  assert.equal(await track(t, founder.apiKey, "bob", { plan: "pro" }), 200);
  assert.equal(await track(t, founder.apiKey, "carol", { plan: "daily" }), 200);
  const plan = async (period: string, userId: string) =>
    (await t.kv.get<string>(keys.usagePlan(founder.platformId, period, userId))).value;
  assert.equal(await plan("2026-11", "bob"), "pro");
  assert.equal(await plan("2026-11-15", "carol"), "daily", "daily tiers count per UTC day");
  // A new month: the first call records the tier afresh.
  t.setNow(new Date("2026-12-01T00:00:01.000Z"));
  assert.equal(await track(t, founder.apiKey, "bob"), 200);
  assert.equal(await plan("2026-12", "bob"), "free");
  assert.equal(await plan("2026-11", "bob"), "pro");
});

Deno.test("a request is recorded on the day of its commit, kept inside its own period", () => {
  const november = periodOf("month", NOW);
  assert.equal(dayOf(november, NOW.getTime()), "2026-11-15");
  // Taken at the last moment of November, committed just after: still November's last day.
  assert.equal(dayOf(november, Date.parse("2026-12-01T00:00:00.003Z")), "2026-11-30");
  const day = periodOf("day", new Date("2026-11-20T23:59:59.999Z"));
  assert.equal(dayOf(day, Date.parse("2026-11-21T00:00:00.001Z")), "2026-11-20");
});

Deno.test("daily distinct end-users: the sketch stays within 3 standard errors for 5,000 users", () => {
  const registers = new Uint8Array(HLL_REGISTERS);
  for (let i = 0; i < 5000; i++) {
    const { register, rank } = hllSlot(`customer-${i}@example.com`);
    registers[register] = Math.max(registers[register], rank);
  }
  const estimate = hllEstimate(registers);
  assert.ok(Math.abs(estimate - 5000) / 5000 < 3 * 0.065, String(estimate));
  assert.equal(hllEstimate(new Uint8Array(HLL_REGISTERS)), 0);
});
