/** POST /dashboard/api/tiers/preview: edited limits measured against this period's real usage. */
import assert from "node:assert/strict";
import { TierPreviewResponseSchema } from "../../lib/schemas/analytics.ts";
import { json, testApp } from "../_helpers/app.ts";
import { paidFounderWithPlatform, post, seedCounts, track } from "./_world.ts";

const TIERS = [
  { id: "free", name: "Free", price: 0, limit: 100, period: "month" as const },
  { id: "pro", name: "Pro", price: 29, limit: 1000, period: "month" as const },
  { id: "daily", name: "Daily", price: 0, limit: 5, period: "day" as const },
  { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" as const },
];

Deno.test("the preview counts each tier's end-users over and within 10% of the edited limit", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  // 'free': 100 end-users counting 1…100; 'pro': 20 counting 100, 200, …, 2000; 'daily': 4 today.
  await seedCounts(t, founder.platformId, [
    ...Array.from({ length: 100 }, (_, i) => ({
      userId: `f${i + 1}`,
      count: i + 1,
      plan: "free",
      limit: 100,
    })),
    ...Array.from({ length: 20 }, (_, i) => ({
      userId: `p${i + 1}`,
      count: 100 * (i + 1),
      plan: "pro",
      limit: null, // seeded above today's limit: the founder lowered it since
    })),
    ...[1, 3, 4, 5].map((count, i) => ({
      userId: `d${i}`,
      count,
      plan: "daily",
      limit: 5,
      unit: "day" as const,
    })),
  ]);
  // An end-user who moved from 'free' to 'pro' counts for 'pro' only.
  assert.equal(await track(t, founder.apiKey, "mover", { amount: 60 }), 200);
  assert.equal(await track(t, founder.apiKey, "mover", { plan: "pro", amount: 40 }), 200);

  const res = await post(t, founder, "/dashboard/api/tiers/preview", {
    tiers: [
      { ...TIERS[0], limit: 50 },
      { ...TIERS[1], limit: 1500 },
      { ...TIERS[2], limit: 4 },
      TIERS[3],
      { id: "team", name: "Team", price: 99, limit: 10, period: "month" },
    ],
  });
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.deepEqual(body.tiers, [
    // counts 51…100 are over 50; 45…50 are within 10% of it
    { id: "free", period: "2026-11", users: 100, overLimit: 50, nearLimit: 6 },
    // 1600…2000 are over 1500; 1400 and 1500 within 10%, and mover's 100 is neither
    { id: "pro", period: "2026-11", users: 21, overLimit: 5, nearLimit: 2 },
    // today's counts 1, 3, 4, 5: 5 is over 4; 4 is at it
    { id: "daily", period: "2026-11-15", users: 4, overLimit: 1, nearLimit: 1 },
    { id: "unlimited", period: "2026-11", users: 0, overLimit: 0, nearLimit: 0 },
    { id: "team", period: "2026-11", users: 0, overLimit: 0, nearLimit: 0 },
  ]);
  assert.match(body.asOf, /^2026-11-15T/);
  const parsed = TierPreviewResponseSchema.safeParse(body);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
});

Deno.test("the preview follows an edited period: a tier switched to daily reads today's counters", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  assert.equal(await track(t, founder.apiKey, "alice", { amount: 90 }), 200);
  const preview = async (period: "month" | "day") => {
    const res = await post(t, founder, "/dashboard/api/tiers/preview", {
      tiers: [{ ...TIERS[0], limit: 80, period }],
    });
    const { body, text } = await json(res);
    assert.equal(res.status, 200, text);
    return body.tiers[0];
  };
  assert.deepEqual(await preview("month"), {
    id: "free",
    period: "2026-11",
    users: 1,
    overLimit: 1,
    nearLimit: 0,
  });
  // After the switch every free end-user starts today's period at 0: nobody is over yet.
  assert.deepEqual(await preview("day"), {
    id: "free",
    period: "2026-11-15",
    users: 0,
    overLimit: 0,
    nearLimit: 0,
  });
});

Deno.test("the preview validates the tiers with the tier schema: 400 with the field problems", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  const cases: [unknown, RegExp][] = [
    [{ tiers: [{ id: "pro", name: "Pro", price: 9, limit: 10 }] }, /free/],
    [{ tiers: [TIERS[0], TIERS[0]] }, /duplicate tier id/],
    [{ tiers: [{ ...TIERS[0], limit: -1 }] }, /tiers\.0\.limit/],
    [{ tiers: [] }, /at least one tier/],
    [{}, /tiers/],
  ];
  for (const [body, message] of cases) {
    const res = await post(t, founder, "/dashboard/api/tiers/preview", body);
    const parsed = await json(res);
    assert.equal(res.status, 400, parsed.text);
    assert.equal(parsed.body.error.code, "invalid_request", parsed.text);
    assert.match(parsed.text, message);
  }
});
