/**
 * End-users paying a founder: Checkout Sessions and billing-portal sessions in the founder's own
 * Stripe account. Every creation carries a Stripe `Idempotency-Key`, so a retried call (ours, the
 * SDK's, or the tenant's) returns the session already made instead of opening a second one.
 */
import { createHash } from "node:crypto";
import type Stripe from "stripe";
import type { Caller } from "../auth/caller.ts";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { entitlement, getEndUserBilling } from "../kv/end_users.ts";
import { getStripeConnection, type StripeConnection } from "../kv/platform_stripe.ts";
import { getTiers } from "../kv/tiers.ts";
import type { CreateCheckoutBody, CustomerPortalBody } from "../schemas/billing.ts";
import type { CheckoutResponse, PortalResponse } from "../schemas/responses.ts";
import type { Tier } from "../schemas/tiers.ts";
import { stripeFailure, stripeForPlatform } from "./stripe_client.ts";

type BillingDeps = Pick<Deps, "kv" | "stripeFor" | "secrets" | "now" | "config">;

/** How long a derived idempotency key lasts: a retry within it gets the same session. */
export const IDEMPOTENCY_BUCKET_MS = 5 * 60 * 1000;

/** The metadata we put on every session and subscription: how the webhook finds its platform. */
export interface BillingMetadata {
  [key: string]: string;
  platformId: string;
  userId: string;
  tier: string;
}

/**
 * A Checkout Session (mode subscription, the tier's `stripePriceId`) for the calling end-user,
 * reusing their Stripe customer when one is known, with `{platformId, userId, tier}` as metadata
 * on the session and on the subscription it creates.
 * 409 `stripe_not_connected`; 400 for an unknown, free or unsynced tier; 409 `conflict` when the
 * end-user already pays (they change plans in the portal); 502 `stripe_error` when Stripe refuses.
 */
export async function createCheckout(
  deps: BillingDeps,
  caller: Caller,
  body: CreateCheckoutBody,
  clientKey?: string,
): Promise<CheckoutResponse> {
  const platformId = caller.tenant.platformId;
  const connection = await requireConnection(deps.kv, platformId);
  // Fresh from KV, not the tenant cache: a sync in another process must be usable at once.
  const tiers = (await getTiers(deps.kv, platformId))?.tiers ?? caller.tenant.tiers;
  const tier = paidTier(tiers, body.tier);
  const record = await getEndUserBilling(deps.kv, platformId, caller.userId);
  const paid = entitlement(record);
  if (paid) {
    throw new ApiError(
      "conflict",
      `This end-user already has a ${record!.status} subscription to '${paid.tier}'; ` +
        "open POST /api/customer-portal to change or cancel it.",
    );
  }
  const metadata: BillingMetadata = { platformId, userId: caller.userId, tier: tier.id };
  const params: Stripe.Checkout.SessionCreateParams = {
    mode: "subscription",
    line_items: [{ price: tier.stripePriceId!, quantity: 1 }],
    // Already the URL parser's serialisation (ReturnUrlSchema): never a string it had to repair.
    success_url: body.successUrl,
    cancel_url: body.cancelUrl,
    metadata,
    subscription_data: { metadata },
    ...(record?.customerId
      ? { customer: record.customerId }
      : body.email
      ? { customer_email: body.email }
      : {}),
    // Shown in the founder's Stripe dashboard; Stripe allows at most 200 characters.
    ...(/^[A-Za-z0-9_-]{1,200}$/.test(caller.userId) && { client_reference_id: caller.userId }),
  };
  const stripe = await stripeForPlatform(deps, connection);
  try {
    const session = await stripe.checkout.sessions.create(params, {
      idempotencyKey: idempotencyKey("checkout", caller, params, deps.now(), clientKey),
    });
    if (!session.url) throw new ApiError("stripe_error", "Stripe returned no Checkout URL.");
    return { url: session.url, sessionId: session.id };
  } catch (error) {
    throw billingFailure(error);
  }
}

/**
 * A billing-portal session for the calling end-user's Stripe customer.
 * 409 `stripe_not_connected`; 404 `not_found` when the end-user never had a Stripe customer.
 */
export async function createPortal(
  deps: BillingDeps,
  caller: Caller,
  body: CustomerPortalBody,
  clientKey?: string,
): Promise<PortalResponse> {
  const platformId = caller.tenant.platformId;
  const connection = await requireConnection(deps.kv, platformId);
  const record = await getEndUserBilling(deps.kv, platformId, caller.userId);
  if (!record?.customerId) {
    throw new ApiError(
      "not_found",
      "This end-user has no Stripe customer yet; they subscribe through POST /api/create-checkout.",
    );
  }
  const params: Stripe.BillingPortal.SessionCreateParams = {
    customer: record.customerId,
    return_url: body.returnUrl,
  };
  const stripe = await stripeForPlatform(deps, connection);
  try {
    const session = await stripe.billingPortal.sessions.create(params, {
      idempotencyKey: idempotencyKey("portal", caller, params, deps.now(), clientKey),
    });
    return { url: session.url };
  } catch (error) {
    throw billingFailure(error);
  }
}

async function requireConnection(kv: Deno.Kv, platformId: string): Promise<StripeConnection> {
  const connection = await getStripeConnection(kv, platformId);
  if (!connection) {
    throw new ApiError(
      "stripe_not_connected",
      "This platform has not connected its Stripe account yet; its founder does so in the dashboard.",
    );
  }
  return connection;
}

function paidTier(tiers: readonly Tier[], id: string): Tier {
  const tier = tiers.find((t) => t.id === id);
  if (!tier) {
    throw new ApiError(
      "invalid_request",
      `tier: '${id.slice(0, 64)}' is not a tier of this platform; valid: ${
        tiers.map((t) => t.id).join(", ")
      }.`,
    );
  }
  if (tier.price <= 0) {
    throw new ApiError("invalid_request", `tier: '${tier.id}' is free; there is nothing to pay.`);
  }
  if (!tier.stripePriceId) {
    throw new ApiError(
      "invalid_request",
      `tier: '${tier.id}' has no Stripe price yet; run sync in the dashboard ` +
        "(POST /dashboard/api/stripe/sync).",
    );
  }
  return tier;
}

/**
 * The Stripe `Idempotency-Key` of a creation. With the tenant's own `Idempotency-Key`, it is that
 * key scoped to the platform, end-user and kind; without, it is a digest of the request and a
 * 5-minute time bucket, so a retry soon after returns the same session and a new attempt later
 * opens a fresh one. Stripe keeps keys for 24 h and refuses one reused with other parameters.
 */
export function idempotencyKey(
  kind: "checkout" | "portal",
  caller: Pick<Caller, "userId"> & { tenant: { platformId: string } },
  params: unknown,
  now: Date,
  clientKey?: string,
): string {
  const parts = clientKey === undefined
    ? [
      caller.tenant.platformId,
      caller.userId,
      params,
      Math.floor(now.getTime() / IDEMPOTENCY_BUCKET_MS),
    ]
    : [caller.tenant.platformId, caller.userId, "client", clientKey];
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 40);
  return `dream-${kind}-${digest}`;
}

function billingFailure(error: unknown): unknown {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === "StripeIdempotencyError") {
    return new ApiError(
      "conflict",
      "This Idempotency-Key was already used with a different request; use a new key.",
    );
  }
  return stripeFailure(error);
}
