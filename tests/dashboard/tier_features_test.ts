/**
 * Features in the founders' tiers: `PUT /dashboard/api/tiers` round-trips them (validated with the
 * one tier schema), the tiers page and the overview show them readably, and the analytics page
 * picks one.
 */
import assert from "node:assert/strict";
import { getTiers } from "../../lib/kv/tiers.ts";
import type { TierInput } from "../../lib/schemas/tiers.ts";
import { json, type TestApp, testApp } from "../_helpers/app.ts";
import { countFeature } from "../analytics/_features.ts";
import { type Founder, get, paidFounderWithPlatform } from "../analytics/_world.ts";
import { UsageRecorder } from "../../lib/analytics/recorder.ts";

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
    features: { reports: { limit: null }, exports: { limit: 5000, period: "day" }, sso: true },
  },
];

async function put(t: TestApp, founder: Founder, body: unknown): Promise<Response> {
  return await t.app.request("/dashboard/api/tiers", {
    method: "PUT",
    headers: { ...founder.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function page(t: TestApp, founder: Founder, path: string): Promise<string> {
  const res = await t.app.request(path, {
    headers: { cookie: `__session=${await t.signIn(founder.userId)}` },
  });
  const html = await res.text();
  assert.equal(res.status, 200, html.slice(0, 300));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  return html;
}

Deno.test("PUT /dashboard/api/tiers saves features, answers them, and GET /dashboard/api/me gives them back", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const res = await json(await put(t, founder, { tiers: TIERS }));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.tiers, TIERS);
  assert.deepEqual((await getTiers(t.kv, founder.platformId))!.tiers, TIERS);
  const me = await json(await get(t, founder, "/dashboard/api/me"));
  assert.equal(me.status, 200, me.text);
  assert.deepEqual(me.body.platform.tiers, TIERS);
  // Saving tiers without features removes them.
  const plain = TIERS.map(({ features: _, ...tier }) => tier);
  const cleared = await json(await put(t, founder, { tiers: plain }));
  assert.deepEqual(cleared.body.tiers, plain, cleared.text);
});

Deno.test("PUT /dashboard/api/tiers refuses bad features with the field's path", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t);
  const withFeatures = (features: unknown, pro: unknown = { reports: { limit: 5 } }) => ({
    tiers: [
      { id: "free", name: "Free", price: 0, limit: 1, features },
      { id: "pro", name: "Pro", price: 9, limit: 2, features: pro },
    ],
  });
  const cases: [unknown, string][] = [
    [withFeatures({ "Bad Id": true }), "tiers.0.features.Bad Id"],
    [withFeatures({ reports: { limit: -1 } }), "tiers.0.features.reports"],
    [withFeatures({ reports: { limit: 1, period: "week" } }), "tiers.0.features.reports"],
    [withFeatures({ reports: true }), "tiers.0.features.reports"],
    [
      withFeatures(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, true]))),
      "tiers.0.features",
    ],
  ];
  for (const [body, path] of cases) {
    const res = await json(await put(t, founder, body));
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, "invalid_request", res.text);
    const paths = (res.body.error.details as { path: string }[]).map((d) => d.path);
    assert.ok(
      paths.some((p) => p === path || p.startsWith(`${path}.`)),
      `${JSON.stringify(body)} → ${JSON.stringify(paths)}`,
    );
  }
});

Deno.test("the tiers page and the overview show each tier's features in words", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  const html = await page(t, founder, "/dashboard/tiers");
  assert.match(html, /What each tier includes/);
  const summaries = [...html.matchAll(/<ul class="tier-feature-summary"[^>]*>(.*?)<\/ul>/g)]
    .map((m) => m[1].replace(/<[^>]+>/g, "").replaceAll("&#39;", "'"));
  assert.deepEqual(summaries, [
    "exports 3 a dayreports 10 a monthsso Not included",
    "exports 5,000 a dayreports Unlimitedsso Included",
  ]);
  const overview = await page(t, founder, "/dashboard");
  assert.match(overview, /<th>Features<\/th>/);
  assert.match(overview, /<code>exports<\/code> 3 a day/);

  // A platform without features sees neither the card nor the column.
  const plain = await paidFounderWithPlatform(t);
  assert.doesNotMatch(await page(t, plain, "/dashboard/tiers"), /What each tier includes/);
  assert.doesNotMatch(await page(t, plain, "/dashboard"), /<th>Features<\/th>/);
});

Deno.test("the analytics page picks a metered feature: its totals, its CSV, and a warning for one no tier meters", async () => {
  await using t = await testApp();
  const founder = await paidFounderWithPlatform(t, TIERS);
  await countFeature(
    t.kv,
    new UsageRecorder({ now: () => t.deps.now() }),
    founder.platformId,
    t.deps.now(),
    [
      { userId: "alice", plan: "free", feature: "reports", limit: 10, amount: 4 },
    ],
  );
  const main = await page(t, founder, "/dashboard/analytics");
  assert.match(main, /<option value(="")? selected>Calls without a feature<\/option>/);
  assert.match(main, /<option value="reports">Feature: reports<\/option>/);
  assert.doesNotMatch(main, /Feature: sso/, "an on/off feature has no figures");
  assert.match(main, /data-testid="total-units">0</);

  const reports = await page(t, founder, "/dashboard/analytics?feature=reports");
  assert.match(reports, /<option value="reports" selected>Feature: reports<\/option>/);
  assert.match(reports, /data-testid="total-units">4</);
  assert.match(reports, /href="\/dashboard\/api\/usage\.csv\?period=2026-11&amp;feature=reports"/);
  assert.match(reports, /&quot;feature&quot;:&quot;reports&quot;|"feature":"reports"/);

  // 'exports' is daily: today is a period to pick.
  const exports = await page(t, founder, "/dashboard/analytics?feature=exports");
  assert.match(exports, /Today \(daily limits\)/);

  for (const feature of ["sso", "nope"]) {
    const html = await page(t, founder, `/dashboard/analytics?feature=${feature}`);
    assert.match(html, /No tier meters that feature; showing calls without a feature instead/);
    assert.match(html, /href="\/dashboard\/api\/usage\.csv\?period=2026-11"/);
  }
});
