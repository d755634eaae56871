/**
 * A founder's own Stripe account: connecting it (the key checked by a real call, then sealed) and
 * syncing the platform's paid tiers into it (a product and a monthly price per tier, and one
 * webhook endpoint at `PUBLIC_URL/webhook/stripe?platform=<platformId>`), without duplicates on a
 * second run.
 */
import { createHash } from "node:crypto";
import type Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { requirePlatformId, tiersOf } from "../founders/platform.ts";
import { keys } from "../kv/keys.ts";
import {
  connectionMode,
  getStripeConnection,
  saveStripeKey,
  type StripeConnection,
  stripeConnectionView,
  type SyncedTier,
  updateStripeConnection,
} from "../kv/platform_stripe.ts";
import type { Tier, TierConfig } from "../schemas/tiers.ts";
import type {
  StripeConnectedResponse,
  StripeConnectionView,
  StripeSyncResponse,
} from "../schemas/responses.ts";
import { HANDLED_EVENT_TYPES } from "./events.ts";
import { stripeFailure, stripeForPlatform } from "./stripe_client.ts";

/** What the founders' Stripe work (sync, key and Connect connections) needs of `Deps`. */
export type FounderStripeDeps = Pick<
  Deps,
  "kv" | "config" | "stripeFor" | "secrets" | "tenants" | "now" | "log"
>;

/** Currency of the prices sync creates. */
export const SYNC_CURRENCY = "usd";

/**
 * The URL a founder's Stripe account sends its events to: one route for every platform, naming
 * the platform so the body is verified with its secret before anything parses it. Endpoints made
 * before the URL carried `?platform=` are re-pointed by the platform's next sync (same endpoint,
 * same secret: Stripe keeps the secret when only the URL changes).
 */
export function founderWebhookUrl(publicUrl: string, platformId: string): string {
  return `${publicUrl}/webhook/stripe?platform=${encodeURIComponent(platformId)}`;
}

/** The platform's connection as the founder may see it (`GET /dashboard/api/stripe`). */
export async function stripeConnectionOf(
  deps: Pick<Deps, "kv">,
  userId: string,
): Promise<StripeConnectionView> {
  const platformId = await requirePlatformId(deps.kv, userId);
  return stripeConnectionView(await getStripeConnection(deps.kv, platformId));
}

/**
 * Checks `secretKey` with a real Stripe call (`GET /v1/account`), then stores it sealed.
 * 422 `stripe_rejected` with Stripe's message when Stripe refuses the key; 502 when unreachable.
 * Connecting another account clears the tiers' price ids (they belong to the old account).
 */
export async function connectFounderStripe(
  deps: FounderStripeDeps,
  userId: string,
  secretKey: string,
): Promise<StripeConnectedResponse> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const current = await getStripeConnection(deps.kv, platformId);
  if (current && connectionMode(current) === "connect") {
    // Its grant at Stripe would outlive the switch: disconnecting is the one clear way out.
    throw new ApiError(
      "conflict",
      "This platform is connected with Stripe Connect; disconnect it first " +
        "(POST /dashboard/api/stripe/disconnect), then paste a key.",
    );
  }
  let account: Stripe.Account;
  try {
    account = await deps.stripeFor(secretKey).accounts.retrieveCurrent();
  } catch (error) {
    const type = (error as { type?: unknown })?.type;
    if (
      type === "StripeAuthenticationError" || type === "StripePermissionError" ||
      type === "StripeInvalidRequestError"
    ) {
      throw new ApiError("stripe_rejected", `Stripe refused this key: ${(error as Error).message}`);
    }
    throw stripeFailure(error);
  }
  // The account object has no `livemode`; the key's prefix is what decides it.
  const livemode = /^(sk|rk)_live_/.test(secretKey);
  const before = await getStripeConnection(deps.kv, platformId);
  await saveStripeKey(deps.kv, deps.secrets, {
    platformId,
    secretKey,
    accountId: account.id,
    livemode,
    now: deps.now(),
  });
  if (before && (before.accountId !== account.id || before.livemode !== livemode)) {
    await setTierPrices(deps, platformId, () => undefined);
  }
  return { connected: true, accountId: account.id, livemode };
}

/**
 * Creates or reuses, in the founder's Stripe, a product and a monthly price for every paid tier
 * (a changed price gets a new Stripe price and the old one is archived), archives the product and
 * price of a tier that was removed or made free, stores each `stripePriceId` on the tiers, and,
 * for a pasted key, creates or reuses the webhook endpoint, sealing its secret (a Connect account
 * gets none: `webhook` is `null`).
 * 409 `stripe_not_connected` before `POST /stripe`.
 */
export async function syncFounderStripe(
  deps: FounderStripeDeps,
  userId: string,
): Promise<StripeSyncResponse> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const connection = await getStripeConnection(deps.kv, platformId);
  if (!connection) {
    throw new ApiError("stripe_not_connected", "Connect your Stripe account first (POST /stripe).");
  }
  const stripe = await stripeForPlatform(deps, connection);
  try {
    const synced: Record<string, SyncedTier> = {};
    const tiers = await tiersOf(deps.kv, platformId);
    await archiveRemoved(deps, stripe, connection, tiers);
    for (const tier of tiers) {
      if (tier.price <= 0) continue;
      const result = await syncTier(stripe, connection, tier);
      synced[tier.id] = result;
      // Saved per tier, so a sync that fails halfway reuses what it made when run again.
      await updateStripeConnection(deps.kv, platformId, (c) => ({
        ...c,
        products: { ...c.products, [tier.id]: result },
      }));
    }
    // A Connect account's events come through dream-api's one Connect endpoint: none is made in it.
    const webhook = connectionMode(connection) === "connect"
      ? null
      : await syncWebhook(deps, stripe, connection);
    const priced = await setTierPrices(deps, platformId, (tier) => {
      const s = synced[tier.id];
      return s && s.unitAmount === toMinor(tier.price) ? s.priceId : tier.stripePriceId;
    });
    return { tiers: priced, webhook };
  } catch (error) {
    throw stripeFailure(error);
  }
}

/**
 * Archives (never deletes) the product and price sync made for tiers that are no longer paid tiers
 * of the platform, so nobody can buy them any more; subscriptions on them go on as Stripe keeps
 * them. Forgotten only once archived, so a failure is retried by the next sync.
 */
async function archiveRemoved(
  deps: FounderStripeDeps,
  stripe: Stripe,
  connection: StripeConnection,
  tiers: readonly Tier[],
): Promise<void> {
  const paid = new Set(tiers.filter((t) => t.price > 0).map((t) => t.id));
  for (const [tierId, made] of Object.entries(connection.products)) {
    if (paid.has(tierId)) continue;
    await retrieveOrNull(() => stripe.prices.update(made.priceId, { active: false }));
    await retrieveOrNull(() => stripe.products.update(made.productId, { active: false }));
    await updateStripeConnection(deps.kv, connection.platformId, (c) => {
      const { [tierId]: _, ...rest } = c.products;
      return { ...c, products: rest };
    });
    deps.log.log("info", "archived a removed tier in the founder's Stripe", {
      platformId: connection.platformId,
      tierId,
    });
  }
}

async function syncTier(
  stripe: Stripe,
  connection: StripeConnection,
  tier: Tier,
): Promise<SyncedTier> {
  const unitAmount = toMinor(tier.price);
  const before = connection.products[tier.id];
  const productId = await syncProduct(stripe, connection, tier, before?.productId);

  if (before && before.productId === productId && before.unitAmount === unitAmount) {
    const price = await retrieveOrNull(() => stripe.prices.retrieve(before.priceId));
    if (price?.active) return before;
  }
  const params: Stripe.PriceCreateParams = {
    product: productId,
    unit_amount: unitAmount,
    currency: SYNC_CURRENCY,
    recurring: { interval: "month" },
    metadata: { platformId: connection.platformId, tierId: tier.id },
  };
  let price = await stripe.prices.create(params, {
    idempotencyKey: idempotencyKey("price", connection, params),
  });
  // A replayed create (same params within 24 h) is a price we may have archived since, and Stripe
  // replays the original answer, which still says active: make sure it is.
  price = await stripe.prices.update(price.id, { active: true });
  if (before?.priceId && before.priceId !== price.id) {
    // Archived, not deleted: existing subscriptions keep their price (Stripe cannot delete used prices).
    await retrieveOrNull(() => stripe.prices.update(before.priceId, { active: false }));
  }
  return { productId, priceId: price.id, unitAmount, currency: SYNC_CURRENCY };
}

async function syncProduct(
  stripe: Stripe,
  connection: StripeConnection,
  tier: Tier,
  productId: string | undefined,
): Promise<string> {
  const name = tier.name;
  if (productId) {
    const updated = await retrieveOrNull(() =>
      stripe.products.update(productId, { name, active: true })
    );
    if (updated) return updated.id;
  }
  const params: Stripe.ProductCreateParams = {
    name,
    metadata: { platformId: connection.platformId, tierId: tier.id },
  };
  // `replaces` enters the key so a product the founder deleted is not replayed back to us.
  const product = await stripe.products.create(params, {
    idempotencyKey: idempotencyKey("product", connection, { params, replaces: productId ?? null }),
  });
  // A tier removed and added back within a day: the replayed create is the product we archived
  // (and its replayed answer still says active).
  await stripe.products.update(product.id, { active: true });
  return product.id;
}

async function syncWebhook(
  deps: FounderStripeDeps,
  stripe: Stripe,
  connection: StripeConnection,
): Promise<{ id: string; url: string }> {
  const url = founderWebhookUrl(deps.config.publicUrl, connection.platformId);
  const current = await getStripeConnection(deps.kv, connection.platformId);
  const stored = current?.webhook;
  if (stored) {
    const endpoint = await retrieveOrNull(() => stripe.webhookEndpoints.retrieve(stored.id));
    if (endpoint) {
      const events = new Set(endpoint.enabled_events);
      const complete = HANDLED_EVENT_TYPES.every((e) => events.has(e)) || events.has("*");
      if (endpoint.url !== url || !complete || endpoint.status === "disabled") {
        await stripe.webhookEndpoints.update(stored.id, {
          url,
          enabled_events: [...HANDLED_EVENT_TYPES],
          disabled: false,
        });
      }
      if (stored.url !== url) {
        await updateStripeConnection(deps.kv, connection.platformId, (c) => ({
          ...c,
          webhook: c.webhook && { ...c.webhook, url },
        }));
      }
      return { id: stored.id, url };
    }
  }
  const params: Stripe.WebhookEndpointCreateParams = {
    url,
    enabled_events: [...HANDLED_EVENT_TYPES],
    description: "dream-api: end-user subscriptions",
    metadata: { platformId: connection.platformId },
  };
  const endpoint = await stripe.webhookEndpoints.create(params, {
    idempotencyKey: idempotencyKey("webhook", connection, { params, replaces: stored?.id ?? null }),
  });
  if (!endpoint.secret) throw new ApiError("stripe_error", "Stripe returned no webhook secret.");
  const secret = await deps.secrets.seal(endpoint.secret, connection.platformId);
  await updateStripeConnection(deps.kv, connection.platformId, (c) => ({
    ...c,
    webhook: { id: endpoint.id, url, secret },
  }));
  return { id: endpoint.id, url };
}

/**
 * Sets each tier's `stripePriceId` to `priceOf(tier)` (undefined removes it) in one
 * compare-and-set, then makes the tenant cache forget the platform. Connecting another account,
 * or disconnecting, clears them (`() => undefined`): those prices live in the old account.
 */
export async function setTierPrices(
  deps: FounderStripeDeps,
  platformId: string,
  priceOf: (tier: Tier) => string | undefined,
): Promise<Tier[]> {
  const key = keys.tiers(platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await deps.kv.get<TierConfig>(key);
    if (!entry.value) return [];
    const tiers = entry.value.tiers.map((tier) => {
      const { stripePriceId: _old, ...rest } = tier;
      const priceId = priceOf(tier);
      return priceId ? { ...rest, stripePriceId: priceId } : rest;
    });
    const config: TierConfig = { tiers, updatedAt: deps.now().toISOString() };
    if ((await deps.kv.atomic().check(entry).set(key, config).commit()).ok) {
      await deps.tenants.forget(platformId);
      return tiers;
    }
  }
  throw new ApiError("unavailable", "Your tiers changed during sync; please retry.");
}

/** Dollars (major unit) → cents, as Stripe wants. */
function toMinor(price: number): number {
  return Math.round(price * 100);
}

/**
 * A Stripe `Idempotency-Key` derived from what is created, so a retried sync (within Stripe's 24 h)
 * gets the object it already made instead of a duplicate, and different params never collide.
 */
function idempotencyKey(kind: string, connection: StripeConnection, params: unknown): string {
  const digest = createHash("sha256").update(JSON.stringify(params)).digest("hex").slice(0, 32);
  return `dream-${kind}-${connection.platformId}-${connection.accountId}-${digest}`;
}

/** Runs a call for an object that may be gone; `null` when Stripe says it does not exist. */
async function retrieveOrNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    const e = error as { code?: unknown; statusCode?: unknown };
    if (e?.code === "resource_missing" || e?.statusCode === 404) return null;
    throw error;
  }
}

/**
 * Deletes the webhook endpoint a pasted key made in the founder's account, with that key, when
 * the key is replaced by Connect or disconnected. Best effort: a revoked key or an endpoint the
 * founder already deleted must not block leaving; what happened is logged.
 */
export async function deleteKeyWebhook(
  deps: Pick<Deps, "stripeFor" | "secrets" | "config" | "log">,
  connection: StripeConnection,
): Promise<"deleted" | "none" | "unreachable"> {
  if (connectionMode(connection) !== "key" || !connection.webhook || !connection.secretKey) {
    return "none";
  }
  const endpointId = connection.webhook.id;
  try {
    const stripe = await stripeForPlatform(deps, connection);
    await retrieveOrNull(() => stripe.webhookEndpoints.del(endpointId));
    return "deleted";
  } catch (error) {
    deps.log.log("warn", "could not delete the pasted key's webhook endpoint", {
      platformId: connection.platformId,
      endpointId,
      error: String((error as { message?: unknown })?.message ?? error),
    });
    return "unreachable";
  }
}
