/**
 * GET /dashboard/api/usage and /dashboard/api/usage.csv: sorting, paging by cursor, the `q`
 * filter, period validation, the CSV stream, and the sign-in and paid gates.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import { UsageReportSchema } from "../../lib/schemas/analytics.ts";
import { founderHeaders, json, payFounder, testApp } from "../_helpers/app.ts";
import { get, paidFounderWithPlatform, post, seedCounts, track } from "./_world.ts";

const ROUTES = [
  { method: "GET", path: "/dashboard/api/usage" },
  { method: "GET", path: "/dashboard/api/usage.csv" },
  {
    method: "POST",
    path: "/dashboard/api/tiers/preview",
    body: { tiers: [{ id: "free", name: "Free", price: 0, limit: 10 }] },
  },
];

async function expectError(res: Response, status: number, code: string) {
  const { body, text } = await json(res);
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.equal(body.error.code, code, text);
  return body;
}

function request(route: (typeof ROUTES)[number], headers: Record<string, string>) {
  return new Request(`http://localhost${route.path}`, {
    method: route.method,
    headers: route.body ? { ...headers, "content-type": "application/json" } : headers,
    body: route.body ? JSON.stringify(route.body) : undefined,
  });
}

Deno.test("the analytics routes answer 401 signed out, 402 unpaid, 404 without a platform", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_paid_no_platform");
  const unpaid = founderHeaders(await t.signIn("user_unpaid"));
  const noPlatform = founderHeaders(await t.signIn("user_paid_no_platform"));
  for (const route of ROUTES) {
    await expectError(await t.app.request(request(route, {})), 401, "unauthorized");
    await expectError(await t.app.request(request(route, unpaid)), 402, "subscription_required");
    await expectError(await t.app.request(request(route, noPlatform)), 404, "not_found");
  }
});

Deno.test("GET /dashboard/api/usage lists end-users by count, 100 a page, and the cursor walks them all", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  // 250 end-users; counts repeat (ties are ordered by id) and two tiers mix.
  const seeded = Array.from({ length: 250 }, (_, i) => ({
    userId: `user-${String(i).padStart(3, "0")}`,
    count: 1 + (i * 37) % 90,
    plan: i % 5 === 0 ? "pro" : "free",
    limit: i % 5 === 0 ? 1000 : 100,
  }));
  await seedCounts(t, founder.platformId, seeded);

  const seen: { userId: string; count: number; plan: string; limit: number }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const path: string = `/dashboard/api/usage?period=current${
      cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
    }`;
    const res = await get(t, founder, path);
    const { body, text } = await json(res);
    assert.equal(res.status, 200, text);
    assert.equal(res.headers.get("content-type"), "application/json", text);
    assert.ok(body.users.length <= 100, text);
    seen.push(...body.users);
    cursor = body.next;
    pages++;
  } while (cursor !== null);

  assert.equal(pages, 3);
  const expected = [...seeded].sort((a, b) => b.count - a.count || (a.userId < b.userId ? -1 : 1));
  assert.deepEqual(
    seen.map((u) => [u.userId, u.count, u.plan, u.limit]),
    expected.map((u) => [u.userId, u.count, u.plan, u.limit]),
  );
});

Deno.test("GET /dashboard/api/usage?q= keeps end-users whose id starts with q, and pages them", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  await seedCounts(t, founder.platformId, [
    ...Array.from({ length: 5 }, (_, i) => ({
      userId: `acme-${i}`,
      count: 10 + i,
      plan: "free",
      limit: 100,
    })),
    { userId: "beta-1", count: 99, plan: "free", limit: 100 },
    { userId: "xacme", count: 50, plan: "free", limit: 100 },
  ]);
  let res = await get(t, founder, "/dashboard/api/usage?q=acme-&limit=3");
  let { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.deepEqual(body.users.map((u: { userId: string }) => u.userId), [
    "acme-4",
    "acme-3",
    "acme-2",
  ]);
  assert.ok(body.next, text);
  res = await get(t, founder, `/dashboard/api/usage?q=acme-&limit=3&cursor=${body.next}`);
  ({ body, text } = await json(res));
  assert.equal(res.status, 200, text);
  assert.deepEqual(body.users.map((u: { userId: string }) => u.userId), ["acme-1", "acme-0"]);
  assert.equal(body.next, null);
});

Deno.test("GET /dashboard/api/usage refuses a bad period, cursor or limit with 400 naming it", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const periods = ["2026-13", "2026-1", "last", "2026-02-30", "2026-11-5", "2026-11-01T00"];
  const cases = [
    ...periods.map((p) =>
      [`/dashboard/api/usage?period=${encodeURIComponent(p)}`, /period/] as const
    ),
    ["/dashboard/api/usage?cursor=not-a-cursor", /cursor/] as const,
    ...["0", "101", "ten"].map((l) => [`/dashboard/api/usage?limit=${l}`, /limit/] as const),
    ["/dashboard/api/usage.csv?period=2026-00", /period/] as const,
  ];
  for (const [path, field] of cases) {
    const body = await expectError(await get(t, founder, path), 400, "invalid_request");
    assert.match(body.error.message, field, path);
  }
});

Deno.test("a period outside 2000-01-01..2999-12-31 is 400 naming the field on every analytics route", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const far = [
    "9999-12",
    "9999-12-31",
    "9999-01",
    "3000-01",
    "3000-01-01",
    "1999-12",
    "1999-12-31",
    "0100-01",
    "1000-01-01",
    "0001-01",
    "0000-01",
    "+10000-01",
    "-0001-01",
  ];
  for (const period of far) {
    for (const path of ["/dashboard/api/usage", "/dashboard/api/usage.csv"]) {
      const body = await expectError(
        await get(t, founder, `${path}?period=${encodeURIComponent(period)}`),
        400,
        "invalid_request",
      );
      assert.match(body.error.message, /^period: /, `${path} ${period}`);
      assert.match(body.error.message, /2000-01.*2999-12/, `${path} ${period}`);
    }
  }
});

Deno.test("the first and last periods of the range, and an empty future month, answer 200", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  for (const period of ["2000-01", "2000-01-01", "2999-12", "2999-12-31", "2027-06"]) {
    const res = await get(t, founder, `/dashboard/api/usage?period=${period}`);
    const { body, text } = await json(res);
    assert.equal(res.status, 200, `${period}: ${text}`);
    assert.equal(body.period.key, period, text);
    assert.deepEqual(body.totals, { units: 0, allowed: 0, refused: 0, activeUsers: 0 }, text);
    assert.deepEqual(body.users, [], text);
    const parsed = UsageReportSchema.safeParse(body);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    const csv = await get(t, founder, `/dashboard/api/usage.csv?period=${period}`);
    assert.equal(csv.status, 200, period);
    assert.equal(await csv.text(), "user_id,plan,count,limit\r\n", period);
  }
});

Deno.test("GET /dashboard/api/usage answers a past month, a day period, and says what is exact", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  t.setNow(new Date("2026-10-30T08:00:00.000Z"));
  assert.equal(await track(t, founder.apiKey, "oct-user", { amount: 7 }), 200);
  t.setNow(new Date("2026-11-15T12:00:00.000Z"));
  assert.equal(await track(t, founder.apiKey, "nov-user", { amount: 2 }), 200);
  assert.equal(await track(t, founder.apiKey, "daily-user", { plan: "daily", amount: 5 }), 200);
  assert.equal(await track(t, founder.apiKey, "daily-user", { plan: "daily" }), 429);

  let res = await get(t, founder, "/dashboard/api/usage?period=2026-10");
  let { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.deepEqual(body.period, {
    key: "2026-10",
    unit: "month",
    start: "2026-10-01T00:00:00.000Z",
    end: "2026-11-01T00:00:00.000Z",
    current: false,
  });
  assert.equal(body.daily.length, 31);
  assert.deepEqual(body.totals, { units: 7, allowed: 1, refused: 0, activeUsers: 1 });
  assert.deepEqual(body.users, [{ userId: "oct-user", plan: "free", count: 7, limit: 100 }]);
  // The answer is what the OpenAPI document (generated from this schema) promises.
  const parsed = UsageReportSchema.safeParse(body);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  assert.deepEqual(body.accuracy, {
    activeUsers: "exact",
    dailyActiveUsers: "approximate",
    dailyActiveUsersStandardError: 0.065,
  });

  res = await get(t, founder, "/dashboard/api/usage");
  ({ body, text } = await json(res));
  assert.equal(body.period.key, "2026-11", text);
  assert.equal(body.period.current, true);
  assert.equal(body.daily.length, 15, "the current month's days up to today");
  // All traffic of the month, both tiers; the month's end-users are those of monthly tiers.
  assert.deepEqual(body.totals, { units: 7, allowed: 2, refused: 1, activeUsers: 1 });
  assert.deepEqual(body.users.map((u: { userId: string }) => u.userId), ["nov-user"]);

  res = await get(t, founder, "/dashboard/api/usage?period=2026-11-15");
  ({ body, text } = await json(res));
  assert.equal(body.period.unit, "day", text);
  assert.deepEqual(body.users, [{ userId: "daily-user", plan: "daily", count: 5, limit: 5 }]);
  assert.equal(body.totals.activeUsers, 1);
});

Deno.test("GET /dashboard/api/usage.csv streams every end-user of the period in chunks", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const users = Array.from({ length: 6000 }, (_, i) => ({
    userId: `u${String(i).padStart(5, "0")}`,
    count: 1 + (i % 50),
    plan: i % 3 === 0 ? "unlimited" : "free",
    limit: i % 3 === 0 ? null : 100,
  }));
  await seedCounts(t, founder.platformId, users);
  const res = await get(t, founder, "/dashboard/api/usage.csv?period=current");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="usage-plt_/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(decoder.decode(value));
  }
  assert.ok(chunks.length >= 10, `a stream of many chunks, not one body: ${chunks.length}`);
  const lines = chunks.join("").split("\r\n");
  assert.equal(lines.at(-1), "");
  assert.equal(lines[0], "user_id,plan,count,limit");
  const rows = lines.slice(1, -1);
  assert.equal(rows.length, 6000);
  assert.equal(rows[0], "u00000,unlimited,1,");
  assert.equal(rows[1], "u00001,free,2,100");
  assert.equal(rows[5999], "u05999,free,50,100");
});

Deno.test("GET /dashboard/api/usage.csv quotes fields and defuses formulas in end-user ids", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  await seedCounts(t, founder.platformId, [
    { userId: 'a,"b"', count: 1, plan: "free", limit: 100 },
    { userId: "=HYPERLINK(1)", count: 2, plan: "free", limit: 100 },
  ]);
  // An end-user counted before tiers were recorded has no tier: the fields stay empty.
  await t.kv.set(keys.usage(founder.platformId, "2026-11", "legacy"), 3);
  const res = await get(t, founder, "/dashboard/api/usage.csv");
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(
    text,
    'user_id,plan,count,limit\r\n\'=HYPERLINK(1),free,2,100\r\n"a,""b""",free,1,100\r\nlegacy,,3,\r\n',
  );
});

Deno.test("the analytics routes refuse cross-site cookie requests and other methods", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const token = await t.signIn(founder.userId);
  const res = await t.app.request("/dashboard/api/tiers/preview", {
    method: "POST",
    headers: {
      ...founderHeaders(token, { via: "cookie", origin: "https://evil.example" }),
      "content-type": "application/json",
    },
    body: JSON.stringify(ROUTES[2].body),
  });
  await expectError(res, 403, "forbidden");
  await expectError(await post(t, founder, "/dashboard/api/usage", {}), 405, "method_not_allowed");
});
