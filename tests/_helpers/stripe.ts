/**
 * Test fixtures for everything Stripe: the local Stripe-compatible server (dev/stripe) wired to a
 * real test app, so webhook deliveries reach the app in process and every call goes through the
 * real `stripe` SDK.
 */
import { HANDLED_EVENT_TYPES } from "../../lib/billing/events.ts";
import assert from "node:assert/strict";
import Stripe from "stripe";
import { CONNECT_EVENTS, type LocalStripeServer, startLocalStripe } from "../../dev/stripe/mod.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { type TestApp, testApp } from "./app.ts";

/** dream-api's own account in the local Stripe, in tests. */
export const OWN_STRIPE_KEY = "sk_test_dreamapi_tests_platform";

export interface StripeTestApp extends AsyncDisposable {
  t: TestApp;
  local: LocalStripeServer;
  /** A real SDK client on the local Stripe for any key. */
  stripe: (secretKey: string) => Stripe;
  /** dream-api's $29/month price in its own account. */
  priceId: string;
  /** Signing secret of dream-api's `/webhook/platform` endpoint. */
  webhookSecret: string;
  /** While false, the local Stripe's deliveries to the app fail (network down). */
  delivering: boolean;
  /** With `connect: true`: dream-api's Connect application (`ca_…`) in the local Stripe. */
  connectClientId?: string;
  /** With `connect: true`: the signing secret of the Connect endpoint at `/webhook/stripe`. */
  connectWebhookSecret?: string;
}

/**
 * A test app whose STRIPE_* point at a fresh local Stripe, with dream-api's product, price and
 * `/webhook/platform` endpoint set up; deliveries to the public URL go into the app.
 */
export async function stripeTestApp(
  options: {
    kvPath?: string;
    env?: Record<string, string>;
    /** Also Stripe Connect, as the dev bootstrap sets it up: OAuth app and Connect endpoint. */
    connect?: boolean;
  } = {},
): Promise<StripeTestApp> {
  const publicUrl = options.env?.PUBLIC_URL ?? "http://localhost:8000";
  const target: { app?: TestApp["app"] } = {};
  const fixture = { delivering: true } as StripeTestApp;
  const local = await startLocalStripe({
    fetch: (input, init) => {
      const url = new URL(String(input));
      if (!target.app || !fixture.delivering || url.origin !== new URL(publicUrl).origin) {
        return Promise.reject(new TypeError(`connection refused: ${url}`));
      }
      return Promise.resolve(target.app.request(url.pathname + url.search, init));
    },
  });
  const stripe = createStripeFactory({ apiUrl: local.url });
  const { price, endpoint } = await setUpOwnStripe(stripe(OWN_STRIPE_KEY), publicUrl);
  const connect: Record<string, string> = {};
  if (options.connect) {
    const application = await local.registerApplication(OWN_STRIPE_KEY, {
      name: "dream-api",
      redirectUris: [`${publicUrl}/dashboard/stripe/callback`],
    });
    const connectEndpoint = await stripe(OWN_STRIPE_KEY).webhookEndpoints.create({
      url: `${publicUrl}/webhook/stripe`,
      connect: true,
      enabled_events: CONNECT_EVENTS,
    });
    connect.STRIPE_CONNECT_CLIENT_ID = fixture.connectClientId = application.id;
    connect.STRIPE_CONNECT_WEBHOOK_SECRET = fixture.connectWebhookSecret = connectEndpoint.secret!;
    connect.STRIPE_CONNECT_URL = local.url;
  }
  const t = await testApp({
    kvPath: options.kvPath,
    env: {
      PUBLIC_URL: publicUrl,
      STRIPE_API_URL: local.url,
      STRIPE_SECRET_KEY: OWN_STRIPE_KEY,
      STRIPE_PRICE_ID: price.id,
      STRIPE_WEBHOOK_SECRET: endpoint.secret!,
      ...connect,
      ...options.env,
    },
  });
  target.app = t.app;
  return Object.assign(fixture, {
    t,
    local,
    stripe,
    priceId: price.id,
    webhookSecret: endpoint.secret!,
    async [Symbol.asyncDispose]() {
      await t[Symbol.asyncDispose]();
      await local.close();
    },
  });
}

/** dream-api's own account in a (local) Stripe: the $29/month price and the `/webhook/platform` endpoint. */
export async function setUpOwnStripe(
  own: Stripe,
  publicUrl: string,
): Promise<{ price: Stripe.Price; endpoint: Stripe.WebhookEndpoint }> {
  const product = await own.products.create({ name: "dream-api" });
  const price = await own.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 2900,
    recurring: { interval: "month" },
  });
  const endpoint = await own.webhookEndpoints.create({
    url: `${publicUrl}/webhook/platform`,
    enabled_events: [...HANDLED_EVENT_TYPES],
  });
  return { price, endpoint };
}

/** Runs `fn`, expecting the SDK to throw; returns the error. */
export async function refusal(fn: () => Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof Stripe.errors.StripeError, `not a StripeError: ${error}`);
    return error;
  }
  assert.fail("expected the call to be refused");
}
