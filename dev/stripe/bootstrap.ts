/**
 * `deno task dev` without Stripe keys: starts the local Stripe and sets up dream-api's own account
 * in it (the "dream-api" product, its $29/month price, the `/webhook/platform` endpoint, and the
 * Connect side: its OAuth application and the Connect endpoint at `/webhook/stripe`), reusing what
 * a previous run left in the state file.
 */
import { dirname } from "node:path";
import type Stripe from "stripe";
import { HANDLED_EVENT_TYPES } from "../../lib/billing/events.ts";
import { createStripeFactory } from "../../lib/billing/stripe_client.ts";
import { startLocalStripe } from "./server.ts";

/** dream-api's own account in the local Stripe. */
export const LOCAL_OWN_STRIPE_KEY = "sk_test_dreamapi_local_platform";
export const LOCAL_PRODUCT_ID = "prod_dreamapi";
export const LOCAL_PRICE_LOOKUP_KEY = "dreamapi_monthly";
export const FOUNDER_SUBSCRIPTION_EVENTS: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
];

/** What dream-api's Connect endpoint listens to: founders' billing events and disconnections. */
export const CONNECT_EVENTS: Stripe.WebhookEndpointCreateParams.EnabledEvent[] = [
  ...HANDLED_EVENT_TYPES,
  "account.application.deauthorized",
];

export interface LocalStripeBootstrap {
  /** `STRIPE_API_URL` */
  apiUrl: string;
  /** `STRIPE_SECRET_KEY` (`LOCAL_OWN_STRIPE_KEY`) */
  secretKey: string;
  /** `STRIPE_PRICE_ID`: the $29/month price */
  priceId: string;
  /** `STRIPE_WEBHOOK_SECRET` of the endpoint at `${publicUrl}/webhook/platform` */
  webhookSecret: string;
  /** `STRIPE_CONNECT_CLIENT_ID`: dream-api's OAuth application (`ca_…`), redirecting to `${publicUrl}/dashboard/stripe/callback` */
  connectClientId: string;
  /** `STRIPE_CONNECT_WEBHOOK_SECRET` of the Connect endpoint at `${publicUrl}/webhook/stripe` */
  connectWebhookSecret: string;
  /** `STRIPE_CONNECT_URL`: where `/oauth/authorize`, `/oauth/token`, `/oauth/deauthorize` are (= `apiUrl`) */
  connectUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the local Stripe on `port` (default 12111) and prepares dream-api's account;
 * `publicUrl` is dream-api's own public URL (where `/webhook/platform` is served).
 * @example const local = await bootstrapLocalStripe({ publicUrl: "http://localhost:8000" });
 */
export async function bootstrapLocalStripe(options: {
  publicUrl: string;
  port?: number;
  /** Default `.data/stripe-local.json`; `null` keeps everything in memory. */
  statePath?: string | null;
}): Promise<LocalStripeBootstrap> {
  const statePath = options.statePath === undefined ? ".data/stripe-local.json" : options.statePath;
  if (statePath) await Deno.mkdir(dirname(statePath), { recursive: true });
  const server = await startLocalStripe({
    port: options.port ?? 12111,
    statePath: statePath ?? undefined,
  });
  try {
    const stripe = createStripeFactory({ apiUrl: server.url })(LOCAL_OWN_STRIPE_KEY);
    const product = await stripe.products.retrieve(LOCAL_PRODUCT_ID).catch(() =>
      stripe.products.create({ id: LOCAL_PRODUCT_ID, name: "dream-api" })
    );
    const [existing] = (await stripe.prices.list({ lookup_keys: [LOCAL_PRICE_LOOKUP_KEY] })).data;
    const price = existing ?? await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2900,
      recurring: { interval: "month" },
      lookup_key: LOCAL_PRICE_LOOKUP_KEY,
    });
    const publicUrl = options.publicUrl.replace(/\/+$/, "");
    // A signing secret is shown only when an endpoint is created, so replace the old endpoints.
    const urls = [`${publicUrl}/webhook/platform`, `${publicUrl}/webhook/stripe`];
    for (const endpoint of (await stripe.webhookEndpoints.list({ limit: 100 })).data) {
      if (urls.includes(endpoint.url)) await stripe.webhookEndpoints.del(endpoint.id);
    }
    const endpoint = await stripe.webhookEndpoints.create({
      url: urls[0],
      enabled_events: FOUNDER_SUBSCRIPTION_EVENTS,
      description: "dream-api platform subscriptions (local)",
    });
    const application = await server.registerApplication(LOCAL_OWN_STRIPE_KEY, {
      name: "dream-api",
      redirectUris: [`${publicUrl}/dashboard/stripe/callback`],
    });
    const connectEndpoint = await stripe.webhookEndpoints.create({
      url: urls[1],
      connect: true,
      enabled_events: CONNECT_EVENTS,
      description: "dream-api: founders' connected accounts (local)",
    });
    return {
      apiUrl: server.url,
      secretKey: LOCAL_OWN_STRIPE_KEY,
      priceId: price.id,
      webhookSecret: endpoint.secret!,
      connectClientId: application.id,
      connectWebhookSecret: connectEndpoint.secret!,
      connectUrl: server.url,
      close: () => server.close(),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
