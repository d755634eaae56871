/**
 * Analytics of metered features: recorded beside the main meter's (which stay exactly what they
 * were), read by `GET /dashboard/api/usage?feature=`, its CSV and the tier editor's preview, and
 * pruned like the main meter's daily figures.
 */
import assert from "node:assert/strict";
import { runAdmin } from "../../cli/admin.ts";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";
import { keys } from "../../lib/kv/keys.ts";
import { UsageReportSchema } from "../../lib/schemas/analytics.ts";
import type { TierInput } from "../../lib/schemas/tiers.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { json, type TestApp, testApp } from "../_helpers/app.ts";
import { countFeature } from "./_features.ts";
import { type Founder, get, paidFounderWithPlatform, post, track } from "./_world.ts";

const NOW = new Date("2026-11-15T12:00:00.000Z");

/** 'reports' is metered per month, 'exports' per day, 'sso' is on/off. */
const TIERS: TierInput[] = [
  {
    id: "free",
    name: "Free",
    price: 0,
    limit: 100,
    period: "month",
    features: { reports: { limit: 10 }, exports: { limit: 3, period: "day" }, sso: false },
  },
  {
    id: "pro",
    name: "Pro",
    price: 29,
    limit: 1000,
    period: "month",
    features: { reports: { limit: null }, exports: { limit: 50, period: "day" }, sso: true },
  },
];

async function dump(kv: Deno.Kv, prefixes: Deno.KvKey[]): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of prefixes) {
    for await (const e of kv.list({ prefix })) {
      out.push(`${JSON.stringify(e.key)}=${String((e.value as Deno.KvU64).value ?? e.value)}`);
    }
  }
  return out;
}

async function report(t: TestApp, founder: Founder, query: string) {
  const res = await get(t, founder, `/dashboard/api/usage?${query}`);
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  const parsed = UsageReportSchema.safeParse(body);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  return body;
}

/** Main calls through the app's meter, then feature calls beside them. */
async function seedMixedUsage(t: TestApp, founder: Founder): Promise<UsageRecorder> {
  assert.equal(await track(t, founder.apiKey, "alice", { amount: 7 }), 200);
  assert.equal(await track(t, founder.apiKey, "bob", { amount: 2, plan: "pro" }), 200);
  assert.equal(await track(t, founder.apiKey, "bob", { amount: 2000, plan: "pro" }), 429);
  const recorder = new UsageRecorder({ now: () => t.deps.now() });
  const granted = await countFeature(t.kv, recorder, founder.platformId, t.deps.now(), [
    // alice (free): reports 4 + 6 = 10 of 10, then one refused; exports 2 of 3 today.
    { userId: "alice", plan: "free", feature: "reports", limit: 10, amount: 4 },
    { userId: "alice", plan: "free", feature: "reports", limit: 10, amount: 6 },
    { userId: "alice", plan: "free", feature: "reports", limit: 10, amount: 1 },
    { userId: "alice", plan: "free", feature: "exports", limit: 3, amount: 2, unit: "day" },
    // bob (pro): reports unlimited; carol (free) only exports.
    { userId: "bob", plan: "pro", feature: "reports", limit: null, amount: 25 },
    { userId: "carol", plan: "free", feature: "exports", limit: 3, amount: 3, unit: "day" },
    { userId: "carol", plan: "free", feature: "exports", limit: 3, amount: 1, unit: "day" },
  ]);
  assert.deepEqual(granted, [true, true, false, true, true, true, false]);
  return recorder;
}

Deno.test("a feature's calls are recorded under the feature's keys and leave the main meter's figures exactly as they were", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  const { platformId } = founder;
  assert.equal(await track(t, founder.apiKey, "alice", { amount: 7 }), 200);
  const mainKeys: Deno.KvKey[] = [
    keys.usageDailyAll(platformId),
    keys.usageHllAll(platformId),
    ["usage_active", platformId],
    keys.usageAll(platformId),
  ];
  const before = await dump(t.kv, mainKeys);
  const recorder = new UsageRecorder({ now: () => NOW });
  await countFeature(t.kv, recorder, platformId, NOW, [
    { userId: "alice", plan: "free", feature: "reports", limit: 10, amount: 4 },
    { userId: "zed", plan: "free", feature: "reports", limit: 10, amount: 11 },
    { userId: "zed", plan: "free", feature: "exports", limit: 3, amount: 1, unit: "day" },
  ]);
  assert.deepEqual(await dump(t.kv, mainKeys), before, "the main meter's figures must not move");

  const sum = async (feature: string, metric: "units" | "allowed" | "refused") =>
    (await t.kv.get<Deno.KvU64>(
      keys.usageFeatureDailyMetric(platformId, feature, "2026-11-15", metric),
    )).value?.value;
  assert.deepEqual(
    [
      await sum("reports", "units"),
      await sum("reports", "allowed"),
      await sum("reports", "refused"),
    ],
    [4n, 1n, 1n],
  );
  assert.deepEqual([await sum("exports", "units"), await sum("exports", "allowed")], [1n, 1n]);
  const active = async (feature: string, period: string) =>
    (await t.kv.get<Deno.KvU64>(keys.usageFeatureActive(platformId, feature, period))).value
      ?.value;
  assert.equal(await active("reports", "2026-11"), 1n, "zed was refused: only alice counted");
  assert.equal(await active("exports", "2026-11-15"), 1n);
  const registers = await dump(t.kv, [keys.usageFeatureHll(platformId, "reports", "2026-11-15")]);
  assert.equal(registers.length, 1, registers.join("\n"));
  // The tier an end-user was counted under is recorded for the feature's period (daily here).
  assert.equal((await t.kv.get(keys.usagePlan(platformId, "2026-11-15", "zed"))).value, "free");
});

Deno.test("GET /dashboard/api/usage?feature= answers that feature's totals, days and end-users with their tier's limit of it", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  await seedMixedUsage(t, founder);

  const main = await report(t, founder, "period=current");
  assert.equal(main.feature, null);
  assert.deepEqual(main.totals, { units: 9, allowed: 2, refused: 1, activeUsers: 2 });
  assert.deepEqual(
    main.users.map((
      u: { userId: string; count: number; limit: number },
    ) => [u.userId, u.count, u.limit]),
    [["alice", 7, 100], ["bob", 2, 1000]],
  );

  const reports = await report(t, founder, "period=current&feature=reports");
  assert.equal(reports.feature, "reports");
  assert.deepEqual(reports.totals, { units: 35, allowed: 3, refused: 1, activeUsers: 2 });
  const today = reports.daily.find((d: { date: string }) => d.date === "2026-11-15");
  assert.deepEqual(today, {
    date: "2026-11-15",
    units: 35,
    allowed: 3,
    refused: 1,
    activeUsers: 2,
  });
  assert.deepEqual(reports.users, [
    { userId: "bob", plan: "pro", count: 25, limit: null },
    { userId: "alice", plan: "free", count: 10, limit: 10 },
  ]);

  // A daily feature: its period is the day.
  const exports = await report(t, founder, "period=2026-11-15&feature=exports");
  assert.deepEqual(exports.totals, { units: 5, allowed: 2, refused: 1, activeUsers: 2 });
  assert.deepEqual(exports.users, [
    { userId: "carol", plan: "free", count: 3, limit: 3 },
    { userId: "alice", plan: "free", count: 2, limit: 3 },
  ]);
  // Search and paging work on a feature's end-users too.
  const page = await report(t, founder, "period=current&feature=reports&limit=1");
  assert.equal(page.users.length, 1);
  const second = await report(
    t,
    founder,
    `period=current&feature=reports&limit=1&cursor=${page.next}`,
  );
  assert.deepEqual(second.users.map((u: { userId: string }) => u.userId), ["alice"]);
  assert.equal(second.next, null);
});

Deno.test("?feature= naming an on/off feature, an unknown one or no slug answers 400 invalid_request listing the metered features", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  const cases: [string, RegExp][] = [
    ["sso", /'sso' is an on\/off feature.*your tiers meter: exports, reports/],
    ["nope", /'nope' is not a feature of your tiers; your tiers meter: exports, reports/],
    ["Not A Slug", /feature/],
  ];
  for (const path of ["/dashboard/api/usage", "/dashboard/api/usage.csv"]) {
    for (const [feature, message] of cases) {
      const res = await get(t, founder, `${path}?feature=${encodeURIComponent(feature)}`);
      const { body, text } = await json(res);
      assert.equal(res.status, 400, `${path} ${feature}: ${text}`);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(body.error.code, "invalid_request", text);
      assert.match(body.error.message, message, text);
    }
  }
});

Deno.test("GET /dashboard/api/usage.csv?feature= streams that feature's end-users with their tier's limit of it", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  await seedMixedUsage(t, founder);
  const res = await get(t, founder, "/dashboard/api/usage.csv?feature=reports");
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.equal(
    res.headers.get("content-disposition"),
    `attachment; filename="usage-${founder.platformId}-reports-2026-11.csv"`,
  );
  assert.equal(text, "user_id,plan,count,limit\r\nalice,free,10,10\r\nbob,pro,25,\r\n");
  const main = await (await get(t, founder, "/dashboard/api/usage.csv")).text();
  assert.equal(main, "user_id,plan,count,limit\r\nalice,free,7,100\r\nbob,pro,2,1000\r\n");
});

Deno.test("POST /dashboard/api/tiers/preview?feature= measures the feature's edited limits against its counts", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  await seedMixedUsage(t, founder);
  const edited = structuredClone(TIERS);
  edited[0].features!.reports = { limit: 9 }; // alice's 10 is over
  edited[1].features!.reports = { limit: 26 }; // bob's 25 is near (within 10%)
  const res = await post(t, founder, "/dashboard/api/tiers/preview?feature=reports", {
    tiers: edited,
  });
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.equal(body.feature, "reports");
  assert.deepEqual(body.tiers, [
    { id: "free", period: "2026-11", users: 1, overLimit: 1, nearLimit: 0 },
    { id: "pro", period: "2026-11", users: 1, overLimit: 0, nearLimit: 1 },
  ]);
  // A daily feature reads today's counts; a lowered limit of 2 puts carol (3) over, alice (2) at it.
  edited[0].features!.exports = { limit: 2, period: "day" };
  const daily = await json(
    await post(t, founder, "/dashboard/api/tiers/preview?feature=exports", { tiers: edited }),
  );
  assert.equal(daily.status, 200, daily.text);
  assert.deepEqual(daily.body.tiers[0], {
    id: "free",
    period: "2026-11-15",
    users: 2,
    overLimit: 1,
    nearLimit: 1,
  });
  // Without `feature`: the main meter, as before.
  const main = await json(
    await post(t, founder, "/dashboard/api/tiers/preview", { tiers: edited }),
  );
  assert.equal(main.body.feature, null);
  assert.deepEqual(main.body.tiers[0], {
    id: "free",
    period: "2026-11",
    users: 1,
    overLimit: 0,
    nearLimit: 0,
  });
  // A feature the edited tiers do not meter is 400.
  const sso = await json(
    await post(t, founder, "/dashboard/api/tiers/preview?feature=sso", { tiers: edited }),
  );
  assert.equal(sso.status, 400, sso.text);
  assert.match(sso.body.error.message, /on\/off/);
});

Deno.test("analytics prune deletes features' daily sums and registers before the cutoff and keeps the rest", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  const { platformId } = founder;
  const recorder = new UsageRecorder({ now: () => t.deps.now() });
  for (const at of [new Date("2025-09-01T12:00:00Z"), new Date("2026-11-01T12:00:00Z")]) {
    t.setNow(at);
    for (const feature of ["exports", "reports", "reports-2"]) {
      await countFeature(
        t.kv,
        recorder,
        platformId,
        at,
        Array.from({ length: 5 }, (_, i) => ({
          userId: `u${i}`,
          plan: "free",
          feature,
          limit: null,
        })),
      );
    }
  }
  const all = [keys.usageFeatureDailyAll(platformId), keys.usageFeatureHllAll(platformId)];
  const before = await dump(t.kv, all);
  assert.ok(before.some((k) => k.includes("2025-09-01")));
  await runAdmin(t.kv, ["analytics", "prune"], () => new Date("2026-11-26T10:00:00Z"));
  const after = await dump(t.kv, all);
  assert.deepEqual(after, before.filter((k) => !k.includes("2025-09-01")));
  assert.ok(after.some((k) => k.includes('"reports-2","2026-11-01"')), after.join("\n"));
  // The per-period figures (counters, distinct end-users) are the usage history: kept.
  assert.ok(
    (await t.kv.get(keys.usageFeatureActive(platformId, "reports", "2025-09"))).value !== null,
  );
});

Deno.test("recording a feature's request stays within the commit cost the recorder announces", async () => {
  await using kv = await Deno.openKv(":memory:");
  const recorder = new UsageRecorder({ now: () => NOW });
  const req = {
    platformId: "plt_cost",
    userId: `user-${"x".repeat(200)}`,
    plan: "free",
    period: periodOf("day", NOW),
    limit: 10,
    amount: 1,
    feature: "f".repeat(40),
  };
  const cost = recorder.cost(req);
  assert.notEqual(cost.group, recorder.cost({ ...req, feature: undefined }).group);
  assert.notEqual(cost.group, recorder.cost({ ...req, feature: "other" }).group);
  const op = kv.atomic();
  let mutations = 0;
  for (const name of ["set", "sum", "max"] as const) {
    const original = op[name].bind(op) as (...args: unknown[]) => Deno.AtomicOperation;
    (op as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      mutations++;
      return original(...args);
    };
  }
  recorder.record(op, [{ req, ok: true, before: 0 }]);
  assert.ok(mutations > 0);
  assert.ok(
    mutations <= cost.each.mutations + cost.once.mutations,
    `${mutations} > ${cost.each.mutations} + ${cost.once.mutations}`,
  );
});
