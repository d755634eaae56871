/**
 * POST /dashboard/api/stripe and /stripe/sync against the local Stripe-compatible server (the real
 * stripe SDK), and the rule that founders' secrets are never plaintext in responses, logs or KV.
 */
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { accountIdFor } from "../../dev/stripe/mod.ts";
import { DecryptError } from "../../lib/crypto/secrets.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  getStripeConnection,
  openSecretKey,
  openWebhookSecret,
  type StripeConnection,
} from "../../lib/kv/platform_stripe.ts";
import { getTiers } from "../../lib/kv/tiers.ts";
import { founderHeaders, json, payFounder } from "../_helpers/app.ts";
import { type StripeTestApp, stripeTestApp } from "../_helpers/stripe.ts";

const FOUNDER_KEY = "sk_test_founder_acme_4242";

const PAID_TIERS = [
  { id: "free", name: "Free", price: 0, limit: 100 },
  { id: "pro", name: "Pro", price: 29, limit: 1000 },
  { id: "max", name: "Max", price: 99.5, limit: null },
];

/** A paid founder with a platform; every response body is kept in `bodies` for secret scans. */
async function founder(f: StripeTestApp, userId = "user_s") {
  await payFounder(f.t.kv, userId);
  const headers = founderHeaders(await f.t.signIn(userId));
  const bodies: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await f.t.app.request(path, {
      method,
      headers: { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const out = await json(res);
    bodies.push(JSON.stringify([...res.headers]), out.text);
    return out;
  };
  const created = await call("POST", "/dashboard/api/platform", {});
  assert.equal(created.status, 201, created.text);
  return { call, bodies, platformId: created.body.platformId as string };
}

Deno.test("POST /dashboard/api/stripe checks the key with Stripe and answers connected, accountId, livemode", async () => {
  await using f = await stripeTestApp();
  const { call } = await founder(f);
  const res = await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, {
    connected: true,
    accountId: accountIdFor(FOUNDER_KEY),
    livemode: false,
  });
  const me = await call("GET", "/dashboard/api/me");
  assert.deepEqual(me.body.platform.stripe, {
    connected: true,
    mode: "key",
    accountId: accountIdFor(FOUNDER_KEY),
    livemode: false,
    keyLast4: "4242",
  });

  const live = await call("POST", "/dashboard/api/stripe", {
    secretKey: "rk_live_acme_restricted",
  });
  assert.equal(live.status, 200, live.text);
  assert.equal(live.body.livemode, true);
});

Deno.test("POST /dashboard/api/stripe: a malformed key is 400, a key Stripe refuses is 422 stripe_rejected with Stripe's message", async () => {
  await using f = await stripeTestApp();
  const { call, platformId } = await founder(f);
  for (const secretKey of ["pk_test_abcdefghijklmnop", "sk_test_", "whsec_abc", "", 42]) {
    const res = await call("POST", "/dashboard/api/stripe", { secretKey });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, "invalid_request");
    assert.match(res.body.error.message, /secretKey/);
  }
  const refused = await call("POST", "/dashboard/api/stripe", {
    secretKey: "sk_test_revoked_key_0000",
  });
  assert.equal(refused.status, 422, refused.text);
  assert.equal(refused.body.error.code, "stripe_rejected");
  assert.match(refused.body.error.message, /Invalid API Key provided/);
  assert.equal(await getStripeConnection(f.t.kv, platformId), null, "nothing stored");
});

Deno.test("POST /dashboard/api/stripe/sync answers 409 stripe_not_connected before a key is connected", async () => {
  await using f = await stripeTestApp();
  const { call } = await founder(f);
  const res = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(res.status, 409, res.text);
  assert.equal(res.body.error.code, "stripe_not_connected");
});

async function allProducts(stripe: Stripe) {
  return (await stripe.products.list({ limit: 100 })).data;
}

Deno.test("sync makes a product and a monthly price per paid tier and the webhook endpoint; a second run duplicates nothing", async () => {
  await using f = await stripeTestApp();
  const { call, platformId } = await founder(f);
  assert.equal((await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS })).status, 200);
  assert.equal(
    (await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY })).status,
    200,
  );
  const first = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(first.status, 200, first.text);
  assert.equal(
    first.body.webhook.url,
    `http://localhost:8000/webhook/stripe?platform=${platformId}`,
  );
  assert.match(first.body.webhook.id, /^we_/);
  const byId = Object.fromEntries(
    first.body.tiers.map((t: { id: string; stripePriceId?: string }) => [t.id, t.stripePriceId]),
  );
  assert.equal(byId.free, undefined, "free tiers get no price");
  assert.match(byId.pro, /^price_/);
  assert.match(byId.max, /^price_/);

  const stripe = f.stripe(FOUNDER_KEY);
  const pro = await stripe.prices.retrieve(byId.pro);
  assert.equal(pro.unit_amount, 2900);
  assert.equal(pro.currency, "usd");
  assert.equal(pro.recurring?.interval, "month");
  assert.equal((await stripe.prices.retrieve(byId.max)).unit_amount, 9950);
  assert.equal((await stripe.products.retrieve(pro.product as string)).name, "Pro");

  const endpoint = await stripe.webhookEndpoints.retrieve(first.body.webhook.id);
  assert.equal(endpoint.url, `http://localhost:8000/webhook/stripe?platform=${platformId}`);
  assert.deepEqual([...endpoint.enabled_events].sort(), [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.updated",
    "invoice.paid",
    "invoice.payment_failed",
  ]);

  const stored = (await getTiers(f.t.kv, platformId))!.tiers;
  assert.deepEqual(stored.map((t) => t.stripePriceId), [undefined, byId.pro, byId.max]);

  const second = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(second.body, first.body, "the same products, prices and endpoint");
  assert.equal((await allProducts(stripe)).length, 2);
  assert.equal((await stripe.prices.list({ limit: 100 })).data.length, 2);
  assert.equal((await stripe.webhookEndpoints.list()).data.length, 1);

  // Saving the same tiers in the editor keeps the synced price ids.
  const resaved = await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS });
  assert.deepEqual(resaved.body.tiers, first.body.tiers);
});

Deno.test("sync after a price change makes a new price, archives the old one, and keeps the product", async () => {
  await using f = await stripeTestApp();
  const { call } = await founder(f);
  await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS });
  await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  const first = await call("POST", "/dashboard/api/stripe/sync");
  const oldPro = first.body.tiers[1].stripePriceId;

  const changed = PAID_TIERS.map((t) => t.id === "pro" ? { ...t, price: 39, name: "Pro+" } : t);
  const saved = await call("PUT", "/dashboard/api/tiers", { tiers: changed });
  assert.equal(saved.body.tiers[1].stripePriceId, undefined, "a changed price drops the id");
  assert.equal(saved.body.tiers[2].stripePriceId, first.body.tiers[2].stripePriceId);

  const second = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(second.status, 200, second.text);
  const newPro = second.body.tiers[1].stripePriceId;
  assert.match(newPro, /^price_/);
  assert.notEqual(newPro, oldPro);
  const stripe = f.stripe(FOUNDER_KEY);
  const [oldPrice, newPrice] = await Promise.all([
    stripe.prices.retrieve(oldPro),
    stripe.prices.retrieve(newPro),
  ]);
  assert.equal(oldPrice.active, false, "the old price is archived");
  assert.equal(newPrice.active, true);
  assert.equal(newPrice.unit_amount, 3900);
  assert.equal(newPrice.product, oldPrice.product, "same product");
  assert.equal((await stripe.products.retrieve(newPrice.product as string)).name, "Pro+");
  assert.equal((await allProducts(stripe)).length, 2);
  assert.equal(second.body.webhook.id, first.body.webhook.id);
});

Deno.test("sync archives the product and price of a removed tier, and brings them back when it returns", async () => {
  await using f = await stripeTestApp();
  const { call, platformId } = await founder(f);
  await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS });
  await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  const first = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(first.status, 200, first.text);
  const maxPrice = first.body.tiers[2].stripePriceId as string;
  const stripe = f.stripe(FOUNDER_KEY);
  const maxProduct = (await stripe.prices.retrieve(maxPrice)).product as string;

  // "max" removed, "pro" made free: both are archived, nothing is deleted.
  const fewer = [PAID_TIERS[0], { ...PAID_TIERS[1], price: 0 }];
  assert.equal((await call("PUT", "/dashboard/api/tiers", { tiers: fewer })).status, 200);
  const second = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(second.status, 200, second.text);
  const proPrice = first.body.tiers[1].stripePriceId as string;
  for (const id of [maxPrice, proPrice]) {
    assert.equal((await stripe.prices.retrieve(id)).active, false, `${id} archived`);
  }
  assert.equal((await stripe.products.retrieve(maxProduct)).active, false);
  assert.deepEqual(Object.keys((await getStripeConnection(f.t.kv, platformId))!.products), []);
  // A third run finds nothing more to do.
  assert.equal((await call("POST", "/dashboard/api/stripe/sync")).status, 200);

  // Back again: sellable again, and still one product per tier.
  assert.equal((await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS })).status, 200);
  const back = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(back.status, 200, back.text);
  const again = await stripe.prices.retrieve(back.body.tiers[2].stripePriceId);
  assert.equal(again.active, true);
  assert.equal((await stripe.products.retrieve(again.product as string)).active, true);
  const active = (await allProducts(stripe)).filter((p) => p.active);
  assert.equal(active.length, 2, active.map((p) => p.name).join(", "));
});

Deno.test("sync recreates the webhook endpoint when the founder deleted it in Stripe", async () => {
  await using f = await stripeTestApp();
  const { call, platformId } = await founder(f);
  await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  const first = await call("POST", "/dashboard/api/stripe/sync");
  const oldSecret = await openWebhookSecret(
    f.t.deps.secrets,
    (await getStripeConnection(f.t.kv, platformId))!,
  );
  await f.stripe(FOUNDER_KEY).webhookEndpoints.del(first.body.webhook.id);
  const second = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(second.status, 200, second.text);
  assert.notEqual(second.body.webhook.id, first.body.webhook.id);
  const connection = (await getStripeConnection(f.t.kv, platformId))!;
  assert.equal(connection.webhook?.id, second.body.webhook.id);
  const newSecret = await openWebhookSecret(f.t.deps.secrets, connection);
  assert.match(newSecret ?? "", /^whsec_/);
  assert.notEqual(newSecret, oldSecret);
});

Deno.test("connecting another Stripe account forgets the old account's products and price ids", async () => {
  await using f = await stripeTestApp();
  const { call, platformId } = await founder(f);
  await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS });
  await call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  await call("POST", "/dashboard/api/stripe/sync");
  await call("POST", "/dashboard/api/stripe", { secretKey: "sk_test_founder_other_9999" });
  const tiers = (await getTiers(f.t.kv, platformId))!.tiers;
  assert.deepEqual(tiers.map((t) => t.stripePriceId), [undefined, undefined, undefined]);
  const connection = (await getStripeConnection(f.t.kv, platformId))!;
  assert.deepEqual(connection.products, {});
  assert.equal(connection.webhook, null);
  const synced = await call("POST", "/dashboard/api/stripe/sync");
  assert.equal(synced.status, 200, synced.text);
  assert.equal((await allProducts(f.stripe("sk_test_founder_other_9999"))).length, 2);
});

Deno.test("secrets never appear in plain text: not in responses, not in logs, not in the KV file", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/secrets.kv`;
  let secretKey: string;
  let webhookSecret: string | null;
  {
    await using f = await stripeTestApp({ kvPath });
    const { call, bodies, platformId } = await founder(f);
    await call("PUT", "/dashboard/api/tiers", { tiers: PAID_TIERS });
    secretKey = FOUNDER_KEY;
    assert.equal((await call("POST", "/dashboard/api/stripe", { secretKey })).status, 200);
    assert.equal((await call("POST", "/dashboard/api/stripe/sync")).status, 200);
    // A refused key goes into a log line and an error body: neither may carry it.
    const refusedKey = "sk_test_revoked_but_secret_7777";
    await call("POST", "/dashboard/api/stripe", { secretKey: refusedKey });
    await call("GET", "/dashboard/api/me");
    const connection = (await getStripeConnection(f.t.kv, platformId))!;
    webhookSecret = await openWebhookSecret(f.t.deps.secrets, connection);
    assert.match(webhookSecret ?? "", /^whsec_/, "the sealed webhook secret opens");
    assert.equal(await openSecretKey(f.t.deps.secrets, connection), secretKey);

    const seen = [...bodies, ...f.t.logs].join("\n");
    for (const secret of [secretKey, webhookSecret!, refusedKey]) {
      assert.ok(!seen.includes(secret), `a secret leaked into a response or log: ${secret}`);
      assert.ok(!seen.includes(secret.slice(8)), "not even its body after the prefix");
    }
  }
  const bytes = await Deno.readFile(kvPath);
  const haystack = new TextDecoder("latin1").decode(bytes);
  assert.ok(bytes.length > 0);
  assert.ok(!haystack.includes(secretKey), "the Stripe key is not in the KV file");
  assert.ok(!haystack.includes(webhookSecret!), "the webhook secret is not in the KV file");
  assert.ok(!haystack.includes(webhookSecret!.slice(6)), "nor its random part");
  assert.ok(haystack.includes("platform_stripe"), "the scan did read the records");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a sealed key copied into another platform's record does not open (platform id is bound)", async () => {
  await using f = await stripeTestApp();
  const a = await founder(f, "user_a");
  const b = await founder(f, "user_b");
  await a.call("POST", "/dashboard/api/stripe", { secretKey: FOUNDER_KEY });
  await b.call("POST", "/dashboard/api/stripe", { secretKey: "sk_test_founder_b_5555" });
  const recordA = (await getStripeConnection(f.t.kv, a.platformId))!;
  const recordB = (await getStripeConnection(f.t.kv, b.platformId))!;
  const forged: StripeConnection = { ...recordB, secretKey: recordA.secretKey };
  await f.t.kv.set(keys.platformStripe(b.platformId), forged);
  await assert.rejects(
    openSecretKey(f.t.deps.secrets, (await getStripeConnection(f.t.kv, b.platformId))!),
    DecryptError,
  );
  // B's sync cannot use A's key: it fails closed instead of acting in A's account.
  const sync = await b.call("POST", "/dashboard/api/stripe/sync");
  assert.equal(sync.status, 500, sync.text);
  assert.equal(sync.body.error.code, "internal");
  assert.equal((await allProducts(f.stripe(FOUNDER_KEY))).length, 0);
});
