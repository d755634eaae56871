/**
 * Both webhooks against hostile input and a bad day at Stripe: verify before parse (the platform
 * named in the URL), a bounded fallback for old-style endpoints, the ±300 s signature window,
 * signed events we cannot use acknowledged with an outcome, Stripe's failures sorted into "retry
 * later" (503) and "a retry cannot help" (2xx), malformed input always a 4xx in the envelope.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { legacyLookups } from "../../lib/billing/end_user_webhook.ts";
import { webhookCrypto } from "../../lib/billing/stripe_client.ts";
import { getEndUserBilling } from "../../lib/kv/end_users.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  getStripeConnection,
  openWebhookSecret,
  updateStripeConnection,
} from "../../lib/kv/platform_stripe.ts";
import { OWN_STRIPE_SCOPE } from "../../lib/kv/stripe_events.ts";
import { getFounderSubscription } from "../../lib/kv/founder_subscriptions.ts";
import { founderHeaders, json } from "../_helpers/app.ts";
import { type StripeTestApp, stripeTestApp } from "../_helpers/stripe.ts";
import {
  type Answer,
  billingSnapshot,
  type Founder,
  startWorld,
  subscribe,
  type World,
} from "./_world.ts";

const KEY_A = "sk_test_hardeningAlpha00000001";
const KEY_B = "sk_test_hardeningBravo00000002";
const now = () => Math.floor(Date.now() / 1000);

async function sign(payload: string, secret: string, timestamp?: number): Promise<string> {
  return await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    cryptoProvider: webhookCrypto,
    ...(timestamp !== undefined && { timestamp }),
  });
}

/** Runs `fn` while counting the `JSON.parse` calls made on exactly `body`. */
async function countingParses<T>(body: string, fn: () => Promise<T>): Promise<[T, number]> {
  const original = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    if (text === body) parses++;
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    return [await fn(), parses];
  } finally {
    JSON.parse = original;
  }
}

/** POST to the app with any signature header (or none). */
async function post(
  url: string,
  body: string,
  signature: string | undefined,
): Promise<Answer & { headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature !== undefined && { "stripe-signature": signature }),
    },
    body,
  });
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return { ...await json(res), headers: res.headers };
}

function assertRefused(res: Answer, what: string) {
  assert.equal(res.status, 400, `${what}: ${res.text}`);
  assert.equal(res.body.success, false, `${what}: ${res.text}`);
  assert.equal(res.body.error.code, "invalid_request", `${what}: ${res.text}`);
}

function event(type: string, object: unknown, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: `evt_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
    object: "event",
    type,
    created: now(),
    data: { object },
    ...over,
  });
}

/** A founder's end-user with an active subscription, through Checkout. */
async function paying(world: World, founder: Founder, user: string) {
  return (await subscribe(world, founder, user)).subscription;
}

// --- The URL names the platform -------------------------------------------------------------

Deno.test("sync points the founder's endpoint at /webhook/stripe?platform=<platformId>, and Stripe's deliveries use it", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const connection = await getStripeConnection(world.t.kv, a.platformId);
  const url = `${world.url}/webhook/stripe?platform=${a.platformId}`;
  assert.equal(connection!.webhook!.url, url);
  assert.equal((await a.stripe.webhookEndpoints.retrieve(connection!.webhook!.id)).url, url);
  const paid = await world.stripe.payCheckout(
    (await world.api(a, "POST", "/api/create-checkout", "u1", {
      tier: "pro",
      successUrl: "https://app.example.com/ok",
      cancelUrl: "https://app.example.com/cancel",
    })).body.sessionId,
  );
  assert.ok(paid.deliveries.length > 0);
  for (const d of paid.deliveries) {
    assert.equal(d.url, url);
    assert.equal(d.status, 200, `${d.type}: ${d.response}`);
  }
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "pro");
});

Deno.test("the settings page names the webhook URL with the founder's ?platform=", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const res = await world.t.app.request("/dashboard/settings", {
    headers: founderHeaders(await world.t.signIn(a.userId), { via: "cookie", origin: world.url }),
  });
  const page = await res.text();
  assert.equal(res.status, 200, page.slice(0, 300));
  assert.ok(
    page.includes(`<code>${world.url}/webhook/stripe?platform=${a.platformId}</code>`),
    "the URL that names the platform",
  );
});

Deno.test("an endpoint made before ?platform= is re-pointed by the next sync: same endpoint, same secret", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const before = (await getStripeConnection(world.t.kv, a.platformId))!.webhook!;
  const oldUrl = `${world.url}/webhook/stripe`;
  // As sync used to leave it: the endpoint and our record at the URL without the platform.
  await a.stripe.webhookEndpoints.update(before.id, { url: oldUrl });
  await updateStripeConnection(world.t.kv, a.platformId, (c) => ({
    ...c,
    webhook: { ...c.webhook!, url: oldUrl },
  }));
  // Old-style deliveries keep working through the fallback meanwhile.
  const subscription = await paying(world, a, "u1");
  assert.deepEqual(
    [...new Set((await world.stripe.deliveries({ endpoint: before.id })).map((d) => d.url))],
    [oldUrl],
  );

  const synced = await world.sync(a);
  const newUrl = `${world.url}/webhook/stripe?platform=${a.platformId}`;
  assert.deepEqual(synced.webhook, { id: before.id, url: newUrl });
  assert.equal((await a.stripe.webhookEndpoints.retrieve(before.id)).url, newUrl);
  const after = (await getStripeConnection(world.t.kv, a.platformId))!;
  assert.equal(after.webhook!.url, newUrl);
  assert.equal(await openWebhookSecret(world.t.deps.secrets, after), a.webhookSecret);

  const canceled = await world.stripe.cancelSubscription(subscription.id);
  assert.deepEqual(canceled.deliveries.map((d) => [d.url, d.status]), [[newUrl, 200]]);
  assert.equal((await world.api(a, "GET", "/api/usage", "u1")).body.plan, "free");
});

Deno.test("with ?platform=, a body is never parsed before its signature verifies with that platform's secret", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const b = await world.founder("founder_b", KEY_B);
  const subscription = await paying(world, a, "u1");
  const payload = event("customer.subscription.updated", subscription);
  const at = (platformId: string) =>
    `${world.url}/webhook/stripe?platform=${encodeURIComponent(platformId)}`;
  const before = await billingSnapshot(world.t.kv);

  const cases: [string, string, string | undefined][] = [
    ["no signature", at(a.platformId), undefined],
    ["garbage signature", at(a.platformId), "t=nonsense"],
    ["wrong MAC", at(a.platformId), `t=${now()},v1=${"0".repeat(64)}`],
    ["B's secret at A's URL", at(a.platformId), await sign(payload, b.webhookSecret)],
    ["A's secret at B's URL", at(b.platformId), await sign(payload, a.webhookSecret)],
    ["unknown platform", at("plt_nobody"), await sign(payload, a.webhookSecret)],
    ["301 s old", at(a.platformId), await sign(payload, a.webhookSecret, now() - 301)],
    ["330 s ahead", at(a.platformId), await sign(payload, a.webhookSecret, now() + 330)],
  ];
  for (const [what, url, signature] of cases) {
    const [res, parses] = await countingParses(payload, () => post(url, payload, signature));
    assertRefused(res, what);
    assert.equal(parses, 0, `${what}: the unverified body was parsed`);
  }
  for (const bad of ["", "a b", "x".repeat(200), "plt_1&platform=plt_2"]) {
    assertRefused(
      await post(
        `${world.url}/webhook/stripe?platform=${encodeURIComponent(bad)}`,
        payload,
        await sign(payload, a.webhookSecret),
      ),
      `platform=${bad.slice(0, 20)}`,
    );
  }
  assert.deepEqual(await billingSnapshot(world.t.kv), before, "no refusal wrote anything");

  const ok = await world.deliver(payload, a.webhookSecret, { platformId: a.platformId });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.received, true);
});

Deno.test("without ?platform=, a missing, garbage or out-of-window Stripe-Signature is refused before any parse", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const subscription = await paying(world, a, "u1");
  const payload = event("customer.subscription.updated", subscription);
  const url = `${world.url}/webhook/stripe`;
  const cases: [string, string | undefined][] = [
    ["no signature", undefined],
    ["garbage", "nonsense"],
    ["no v1", `t=${now()},v0=${"0".repeat(64)}`],
    ["v1 not hex", `t=${now()},v1=zz`],
    ["huge header", `t=${now()},${"v1=".padEnd(8000, "0")}`],
    ["expired", await sign(payload, a.webhookSecret, now() - 301)],
    ["from the future", await sign(payload, a.webhookSecret, now() + 330)],
  ];
  for (const [what, signature] of cases) {
    const [res, parses] = await countingParses(payload, () => post(url, payload, signature));
    assertRefused(res, what);
    assert.equal(parses, 0, `${what}: the body was parsed`);
  }
});

Deno.test("without ?platform=, at most 2 fallback lookups run at once: more answer 503 with Retry-After; an old-style delivery is logged", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const subscription = await paying(world, a, "u1");
  const payload = event("customer.subscription.updated", subscription);
  assert.equal(legacyLookups.limit, 2);

  const held = [legacyLookups.tryAcquire(), legacyLookups.tryAcquire()];
  assert.deepEqual(held, [true, true]);
  try {
    const [busy, parses] = await countingParses(
      payload,
      () => world.deliver(payload, a.webhookSecret),
    );
    assert.equal(busy.status, 503, busy.text);
    assert.equal(busy.body.error.code, "unavailable");
    assert.match(busy.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(parses, 0, "no parse past the bound");
    // The URL that names its platform does not need the fallback.
    const direct = await world.deliver(payload, a.webhookSecret, { platformId: a.platformId });
    assert.equal(direct.status, 200, direct.text);
  } finally {
    legacyLookups.release();
    legacyLookups.release();
  }
  assert.equal(legacyLookups.inFlight, 0);

  const other = event("customer.subscription.updated", subscription);
  const ok = await world.deliver(other, a.webhookSecret);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(legacyLookups.inFlight, 0, "the slot is given back");
  const logged = world.t.logs.filter((l) => l.includes(JSON.parse(other).id));
  assert.equal(logged.length, 1, logged.join("\n"));
  assert.match(logged[0], /old-style/);
  assert.match(logged[0], new RegExp(a.platformId));
});

// --- The ±300 s window at /webhook/platform -------------------------------------------------

async function founderPaid(f: StripeTestApp, userId: string) {
  const headers = founderHeaders(await f.t.signIn(userId));
  const res = await json(
    await f.t.app.request("/dashboard/api/subscribe", { method: "POST", headers }),
  );
  assert.equal(res.status, 200, res.text);
  f.delivering = false;
  const paid = await f.local.payCheckout(new URL(res.body.url).pathname.split("/").pop()!);
  f.delivering = true;
  return paid;
}

async function platformPost(f: StripeTestApp, body: string, signature?: string) {
  const res = await f.t.app.request("/webhook/platform", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature !== undefined && { "stripe-signature": signature }),
    },
    body,
  });
  return { ...await json(res), headers: res.headers };
}

Deno.test("POST /webhook/platform refuses a signature timestamped more than 300 s ahead, and takes one 200 s ahead", async () => {
  await using f = await stripeTestApp();
  const paid = await founderPaid(f, "user_future");
  const completed = JSON.stringify(
    paid.events.find((e) => e.type === "checkout.session.completed"),
  );
  const [ahead, parses] = await countingParses(
    completed,
    async () => platformPost(f, completed, await sign(completed, f.webhookSecret, now() + 330)),
  );
  assertRefused(ahead, "330 s ahead");
  assert.equal(parses, 0);
  assert.equal((await getFounderSubscription(f.t.kv, "user_future"))?.status, undefined);
  const ok = await platformPost(f, completed, await sign(completed, f.webhookSecret, now() + 200));
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await getFounderSubscription(f.t.kv, "user_future"))?.status, "active");
});

// --- Signed events we cannot use are acknowledged -------------------------------------------

Deno.test("signed events whose data.object is null or not an object are acknowledged as ignored at both webhooks", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  await using f = await stripeTestApp();
  const before = await billingSnapshot(world.t.kv);
  for (
    const type of ["customer.subscription.updated", "invoice.paid", "checkout.session.completed"]
  ) {
    for (const object of [null, "sub_123", [], 42]) {
      const payload = event(type, object);
      const res = await world.deliver(payload, a.webhookSecret, { platformId: a.platformId });
      assert.equal(res.status, 200, `${type} ${JSON.stringify(object)}: ${res.text}`);
      assert.deepEqual(res.body, { received: true, outcome: "ignored" });
      const own = await platformPost(f, payload, await sign(payload, f.webhookSecret));
      assert.equal(own.status, 200, `platform ${type} ${JSON.stringify(object)}: ${own.text}`);
      assert.deepEqual(own.body, { received: true, outcome: "ignored" });
    }
  }
  assert.equal(
    (await billingSnapshot(world.t.kv)).filter((e) => !e.startsWith('["stripe_event"')).length,
    before.length,
    "no billing record written",
  );
});

Deno.test("signed events naming ids no KV key can hold are acknowledged, never a 500", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  await using f = await stripeTestApp();
  const long = "u".repeat(5000);
  const subscription = {
    id: "sub_nowhere",
    object: "subscription",
    customer: "cus_nowhere",
    status: "active",
    created: now(),
    metadata: { platformId: a.platformId, userId: long },
  };
  const payload = event("customer.subscription.updated", subscription);
  const res = await world.deliver(payload, a.webhookSecret, { platformId: a.platformId });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.received, true, res.text);
  const own = await platformPost(f, payload, await sign(payload, f.webhookSecret));
  assert.equal(own.status, 200, own.text);
  assert.equal(own.body.received, true, own.text);
});

Deno.test("POST /webhook/platform acknowledges invoice.paid and invoice.payment_failed for a subscription Stripe does not know (logged once)", async () => {
  await using f = await stripeTestApp();
  for (const type of ["invoice.paid", "invoice.payment_failed"]) {
    const invoice = {
      id: `in_${type.length}`,
      object: "invoice",
      customer: "cus_unknown",
      parent: {
        type: "subscription_details",
        subscription_details: {
          subscription: "sub_stripe_never_heard_of",
          metadata: { userId: "user_ghost" },
        },
      },
    };
    const payload = event(type, invoice);
    const id = JSON.parse(payload).id;
    const res = await platformPost(f, payload, await sign(payload, f.webhookSecret));
    assert.equal(res.status, 200, `${type}: ${res.text}`);
    assert.deepEqual(res.body, { received: true, outcome: "unknown_subscription" });
    const again = await platformPost(f, payload, await sign(payload, f.webhookSecret));
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.outcome, "duplicate");
    const logged = f.t.logs.filter((l) => l.includes(id));
    assert.equal(logged.length, 1, logged.join("\n"));
    assert.match(logged[0], /unknown_subscription/);
  }
  assert.equal(await getFounderSubscription(f.t.kv, "user_ghost"), null);
});

// --- Stripe's failures: retry later (503) or a retry cannot help (2xx) ----------------------

const RETRY = [500, 503, 429];

Deno.test("/webhook/stripe re-fetching from the founder's Stripe: 5xx/429 → 503 with Retry-After (nothing marked); 404 → unknown_subscription; 403 → forbidden", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  const subscription = await paying(world, a, "u1");
  const send = async (status: number) => {
    const payload = event("customer.subscription.updated", { ...subscription, status: "canceled" });
    await world.stripe.injectFault({ path: "/v1/subscriptions/", method: "GET", status });
    try {
      const res = await world.deliver(payload, a.webhookSecret, { platformId: a.platformId });
      const marker = await world.t.kv.get(keys.stripeEvent(a.platformId, JSON.parse(payload).id));
      return { res, marked: marker.versionstamp !== null, id: JSON.parse(payload).id as string };
    } finally {
      await world.stripe.clearFaults();
    }
  };
  for (const status of RETRY) {
    const { res, marked } = await send(status);
    assert.equal(res.status, 503, `${status}: ${res.text}`);
    assert.equal(res.body.error.code, "unavailable");
    assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(marked, false, `${status}: Stripe's retry must find the event unprocessed`);
  }
  for (const [status, outcome] of [[404, "unknown_subscription"], [403, "forbidden"]] as const) {
    const { res, marked, id } = await send(status);
    assert.equal(res.status, 200, `${status}: ${res.text}`);
    assert.deepEqual(res.body, { received: true, outcome });
    assert.equal(marked, true);
    const logged = world.t.logs.filter((l) => l.includes(id));
    assert.equal(logged.length, 1, logged.join("\n"));
  }
  assert.equal((await getEndUserBilling(world.t.kv, a.platformId, "u1"))?.status, "active");
});

Deno.test("/webhook/platform re-fetching from our Stripe: 5xx/429/unreachable → 503 with Retry-After (nothing marked); 404 → unknown_subscription; 403 → forbidden", async () => {
  await using f = await stripeTestApp();
  const paid = await founderPaid(f, "user_faults");
  const invoice = JSON.stringify(paid.events.find((e) => e.type === "invoice.paid"));
  const send = async (status: number) => {
    const payload = event("invoice.paid", JSON.parse(invoice).data.object);
    await f.local.injectFault({ path: "/v1/subscriptions/", method: "GET", status });
    try {
      const res = await platformPost(f, payload, await sign(payload, f.webhookSecret));
      const marker = await f.t.kv.get(keys.stripeEvent(OWN_STRIPE_SCOPE, JSON.parse(payload).id));
      return { res, marked: marker.versionstamp !== null };
    } finally {
      await f.local.clearFaults();
    }
  };
  for (const status of RETRY) {
    const { res, marked } = await send(status);
    assert.equal(res.status, 503, `${status}: ${res.text}`);
    assert.equal(res.body.error.code, "unavailable");
    assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(marked, false);
  }
  for (const [status, outcome] of [[404, "unknown_subscription"], [403, "forbidden"]] as const) {
    const { res, marked } = await send(status);
    assert.equal(res.status, 200, `${status}: ${res.text}`);
    assert.deepEqual(res.body, { received: true, outcome });
    assert.equal(marked, true);
  }
  assert.equal(await getFounderSubscription(f.t.kv, "user_faults"), null);

  await f.local.close();
  const payload = event("invoice.paid", JSON.parse(invoice).data.object);
  const down = await platformPost(f, payload, await sign(payload, f.webhookSecret));
  assert.equal(down.status, 503, down.text);
  assert.match(down.headers.get("retry-after") ?? "", /^\d+$/);
});

// --- Malformed input: always a 4xx in the envelope ------------------------------------------

const MALFORMED: [string, string][] = [
  ["not JSON", "{not json"],
  ["JSON null", "null"],
  ["an array", "[]"],
  ["a number", "42"],
  ["a string", '"evt_1"'],
  ["empty object", "{}"],
  ["no type", JSON.stringify({ id: "evt_1", created: 1, data: { object: {} } })],
  ["no id", JSON.stringify({ type: "invoice.paid", created: 1, data: { object: {} } })],
  ["numeric id", JSON.stringify({ id: 1, type: "invoice.paid", created: 1, data: { object: {} } })],
  ["empty id", JSON.stringify({ id: "", type: "invoice.paid", created: 1, data: { object: {} } })],
  [
    "huge id",
    JSON.stringify({
      id: "e".repeat(5000),
      type: "invoice.paid",
      created: 1,
      data: { object: {} },
    }),
  ],
  [
    "huge type",
    JSON.stringify({ id: "evt_1", type: "t".repeat(5000), created: 1, data: { object: {} } }),
  ],
  ["no data", JSON.stringify({ id: "evt_1", type: "invoice.paid", created: 1 })],
  [
    "data not an object",
    JSON.stringify({ id: "evt_1", type: "invoice.paid", created: 1, data: 7 }),
  ],
  [
    "created not a number",
    JSON.stringify({ id: "evt_1", type: "invoice.paid", created: "x", data: { object: {} } }),
  ],
];

Deno.test("malformed but correctly signed bodies answer 400 invalid_request in the envelope at both webhooks", async () => {
  await using world = await startWorld();
  const a = await world.founder("founder_a", KEY_A);
  await using f = await stripeTestApp();
  for (const [what, body] of MALFORMED) {
    const res = await world.deliver(body, a.webhookSecret, { platformId: a.platformId });
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assertRefused(res, `/webhook/stripe ${what}`);
    const fallback = await world.deliver(body, a.webhookSecret);
    assertRefused(fallback, `/webhook/stripe (no ?platform=) ${what}`);
    assertRefused(
      await platformPost(f, body, await sign(body, f.webhookSecret)),
      `/webhook/platform ${what}`,
    );
  }
});
