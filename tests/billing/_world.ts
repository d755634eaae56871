/**
 * End-user billing fixtures: the real app served on a port (so the local Stripe's signed webhooks
 * reach it over HTTP), a local Stripe-compatible server, and founders who connect their own Stripe
 * account and sync their tiers through the dashboard API, as a founder would.
 */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { type LocalStripeServer, startLocalStripe } from "../../dev/stripe/mod.ts";
import { webhookCrypto } from "../../lib/billing/stripe_client.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getStripeConnection, openWebhookSecret } from "../../lib/kv/platform_stripe.ts";
import type { TierInput } from "../../lib/schemas/tiers.ts";
import {
  founderHeaders,
  json,
  payFounder,
  tenantHeaders,
  type TestApp,
  testApp,
} from "../_helpers/app.ts";

export const BILLING_TIERS: TierInput[] = [
  { id: "free", name: "Free", price: 0, limit: 3, period: "month" },
  { id: "pro", name: "Pro", price: 29, limit: 10, period: "month" },
  { id: "max", name: "Max", price: 99, limit: 100, period: "month" },
];

export interface Founder {
  userId: string;
  platformId: string;
  apiKey: string;
  stripeKey: string;
  /** The founder's own Stripe account, through the real SDK. */
  stripe: Stripe;
  /** The webhook signing secret sync made (plaintext, for signing test events). */
  webhookSecret: string;
  /** tier id → Stripe price id made by sync. */
  prices: Record<string, string>;
}

/** A JSON answer; the body is whatever the route sent (asserted field by field in the tests). */
// deno-lint-ignore no-explicit-any
export type Answer = { status: number; body: any; text: string };

export interface World extends AsyncDisposable {
  t: TestApp;
  stripe: LocalStripeServer;
  /** The app's listening URL (its PUBLIC_URL). */
  url: string;
  /** A founder with a platform, `tiers`, their Stripe account connected and synced. */
  founder(userId: string, stripeKey: string, tiers?: TierInput[]): Promise<Founder>;
  /** A tenant-API call over HTTP. */
  api(
    founder: Founder,
    method: string,
    path: string,
    userId: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer & { headers: Headers }>;
  /**
   * Posts `payload` to /webhook/stripe signed with `secret` (Stripe's own test-header helper); to
   * `/webhook/stripe?platform=<platformId>` (what sync's endpoints use) when `platformId` is given,
   * else to the old-style URL without it.
   */
  deliver(
    payload: string,
    secret: string,
    options?: { timestamp?: number; platformId?: string },
  ): Promise<Answer & { headers: Headers }>;
  /** Runs the founder's `POST /dashboard/api/stripe/sync` again; its JSON answer. */
  sync(founder: Founder): Promise<{ webhook: { id: string; url: string } }>;
}

/** Starts the local Stripe and the app (real time for Stripe; the app's clock for usage periods). */
export async function startWorld(): Promise<World> {
  const stripe = await startLocalStripe();
  let handler: (req: Request) => Response | Promise<Response> = () =>
    new Response(null, { status: 503 });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req) => handler(req),
  );
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const t = await testApp({ env: { STRIPE_API_URL: stripe.url, PUBLIC_URL: url } });
  handler = t.app.fetch;

  const dashboard = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/dashboard/api${path}`, {
      method,
      headers: { ...founderHeaders(token), "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const out = await json(res);
    assert.ok(res.ok, `${method} ${path}: ${out.status} ${out.text}`);
    return out.body;
  };

  return {
    t,
    stripe,
    url,
    async founder(userId, stripeKey, tiers = BILLING_TIERS) {
      await payFounder(t.kv, userId);
      const token = await t.signIn(userId);
      const { platformId, apiKey } = await dashboard(token, "POST", "/platform", { name: userId });
      await dashboard(token, "PUT", "/tiers", { tiers });
      await dashboard(token, "POST", "/stripe", { secretKey: stripeKey });
      const synced = await dashboard(token, "POST", "/stripe/sync");
      assert.equal(synced.webhook.url, `${url}/webhook/stripe?platform=${platformId}`);
      const connection = await getStripeConnection(t.kv, platformId);
      const webhookSecret = await openWebhookSecret(t.deps.secrets, connection!);
      assert.ok(webhookSecret);
      const prices: Record<string, string> = {};
      for (const tier of synced.tiers) if (tier.stripePriceId) prices[tier.id] = tier.stripePriceId;
      return {
        userId,
        platformId,
        apiKey,
        stripeKey,
        stripe: t.deps.stripeFor(stripeKey),
        webhookSecret,
        prices,
      };
    },
    async api(founder, method, path, userId, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...tenantHeaders(founder.apiKey, userId, headers),
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { ...await json(res), headers: res.headers };
    },
    async deliver(payload, secret, options = {}) {
      const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
        payload,
        secret,
        cryptoProvider: webhookCrypto,
        ...(options.timestamp !== undefined && { timestamp: options.timestamp }),
      });
      const query = options.platformId === undefined
        ? ""
        : `?platform=${encodeURIComponent(options.platformId)}`;
      const res = await fetch(`${url}/webhook/stripe${query}`, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      });
      return { ...await json(res), headers: res.headers };
    },
    async sync(founder) {
      return await dashboard(await t.signIn(founder.userId), "POST", "/stripe/sync");
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await stripe.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** Opens a Checkout Session for `userId` through the tenant API and pays it in the local Stripe. */
export async function subscribe(world: World, founder: Founder, userId: string, tier = "pro") {
  const checkout = await world.api(founder, "POST", "/api/create-checkout", userId, {
    tier,
    successUrl: "https://app.example.com/ok",
    cancelUrl: "https://app.example.com/cancel",
  });
  assert.equal(checkout.status, 200, checkout.text);
  const paid = await world.stripe.payCheckout(checkout.body.sessionId);
  for (const d of paid.deliveries) {
    assert.equal(d.status, 200, `${d.type} → ${d.status} ${d.error ?? ""} ${d.response}`);
  }
  return paid;
}

/**
 * Every end-user billing entry in KV (records, customer index, event markers) with its
 * versionstamp: equal snapshots mean nothing was written in between.
 */
export async function billingSnapshot(kv: Deno.Kv): Promise<string[]> {
  const prefixes = [
    keys.endUserBilling("", "")[0],
    keys.endUserByCustomer("")[0],
    keys.stripeEvent("", "")[0],
  ];
  const out: string[] = [];
  for (const prefix of prefixes) {
    for await (const entry of kv.list({ prefix: [prefix] })) {
      out.push(`${JSON.stringify(entry.key)} ${entry.versionstamp} ${JSON.stringify(entry.value)}`);
    }
  }
  return out;
}

/** Stops the founder's webhook endpoint, so Stripe changes happen without reaching the app. */
export async function pauseWebhook(world: World, founder: Founder, paused = true): Promise<void> {
  const connection = await getStripeConnection(world.t.kv, founder.platformId);
  await founder.stripe.webhookEndpoints.update(connection!.webhook!.id, { disabled: paused });
}
