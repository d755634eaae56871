/**
 * `/webhook/stripe`: the events of every founder's Stripe account, at one URL.
 *
 * 1. Find the platform from the unverified payload: the `metadata.platformId` we set on sessions
 *    and subscriptions, else the customer → platform index, else the Connect `account`.
 * 2. Verify the `Stripe-Signature` with THAT platform's webhook secret (300 s tolerance). Nothing
 *    is trusted before this; a payload naming platform A but signed with B's secret is refused.
 * 3. From here on, everything is scoped to the verified platform: objects are re-fetched from its
 *    founder's Stripe with its key (Stripe's advice for ordering: store what Stripe says now, not
 *    what the event said then), and only its end-users' records are written, each together with
 *    the event's marker, so an event id takes effect once per platform.
 */
import type Stripe from "stripe";
import type { Deps } from "../define.ts";
import { ApiError } from "../errors.ts";
import { applyEndUserEvent, findCustomerOwner, type SubscriptionState } from "../kv/end_users.ts";
import { isEventProcessed, markEventProcessed } from "../kv/stripe_events.ts";
import { keys } from "../kv/keys.ts";
import {
  getStripeConnection,
  openSecretKey,
  openWebhookSecret,
  type StripeConnection,
} from "../kv/platform_stripe.ts";
import { getTiers } from "../kv/tiers.ts";
import type { Tier } from "../schemas/tiers.ts";
import { isHandledEvent, knownStatus } from "./events.ts";
import { verifyStripeEvent } from "./webhook_signature.ts";

type WebhookDeps = Pick<Deps, "kv" | "stripeFor" | "secrets" | "now" | "log" | "endUserPlans">;

export type EndUserEventOutcome = "applied" | "stale" | "duplicate" | "ignored" | "foreign";

const UNVERIFIED = "The Stripe-Signature does not verify with the webhook secret of the platform " +
  "this event belongs to.";

/**
 * Verifies a delivery and acts on it. 400 `invalid_request` (nothing changes) for a missing
 * header, a body that is not JSON, an unknown platform or a bad signature; 503 when the founder's
 * Stripe cannot be reached (Stripe retries).
 */
export async function receiveEndUserEvent(
  deps: WebhookDeps,
  rawBody: string,
  signature: string | undefined,
): Promise<{ platformId: string; eventId: string; outcome: EndUserEventOutcome }> {
  if (!signature) throw new ApiError("invalid_request", "Missing Stripe-Signature header.");
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    throw new ApiError("invalid_request", "The body is not valid JSON.");
  }
  if (typeof payload !== "object" || payload === null) {
    throw new ApiError("invalid_request", "The payload is not a Stripe event.");
  }
  for (const platformId of await candidatePlatforms(deps.kv, payload as RawEvent)) {
    const connection = await getStripeConnection(deps.kv, platformId);
    if (!connection) continue;
    let secret: string | null;
    try {
      secret = await openWebhookSecret(deps.secrets, connection);
    } catch (error) {
      deps.log.log("error", "a platform's webhook secret does not decrypt", { platformId, error });
      continue;
    }
    if (!secret) continue;
    let event: Stripe.Event;
    try {
      event = await verifyStripeEvent(rawBody, signature, secret);
    } catch (error) {
      if (error instanceof ApiError) continue;
      throw error;
    }
    const outcome = await handleEndUserEvent(deps, connection, event);
    return { platformId, eventId: event.id, outcome };
  }
  throw new ApiError("invalid_request", UNVERIFIED);
}

/** The unverified payload, as far as identification reads it. */
interface RawEvent {
  account?: unknown;
  data?: { object?: Record<string, unknown> };
}

const MAX_ID = 128;

/**
 * Platforms this payload may belong to, most specific first (at most three, no repeats). The
 * payload is unverified: a candidate is only a secret to try, never trusted by itself.
 */
export async function candidatePlatforms(kv: Deno.Kv, payload: RawEvent): Promise<string[]> {
  const object = payload.data?.object ?? {};
  const found: string[] = [];
  const add = (id: unknown) => {
    if (typeof id === "string" && id.length > 0 && id.length <= MAX_ID && !found.includes(id)) {
      found.push(id);
    }
  };
  add(metadataOf(object).platformId);
  const customer = idOf(object.customer);
  if (customer && customer.length <= MAX_ID) {
    add((await findCustomerOwner(kv, customer))?.platformId);
  }
  if (found.length === 0 && typeof payload.account === "string") {
    add(await platformOfAccount(kv, payload.account));
  }
  return found.slice(0, 3);
}

/**
 * The platform connected to a Stripe account (Connect events name it in `account`). A scan, not an
 * index: dream-api's sync creates account-level endpoints, whose events carry our metadata or a
 * known customer, so this is the rare last resort.
 */
async function platformOfAccount(kv: Deno.Kv, accountId: string): Promise<string | null> {
  if (accountId.length > MAX_ID) return null;
  for await (const entry of kv.list<StripeConnection>({ prefix: keys.platformStripeAll() })) {
    if (entry.value.accountId === accountId) return entry.value.platformId;
  }
  return null;
}

/**
 * Acts on one verified event of a platform. Each handled type re-fetches what it names from the
 * platform's Stripe, so the stored state is Stripe's current one whatever the order of events.
 */
export async function handleEndUserEvent(
  deps: WebhookDeps,
  connection: StripeConnection,
  event: Stripe.Event,
): Promise<EndUserEventOutcome> {
  if (!isHandledEvent(event.type)) return "ignored";
  const platformId = connection.platformId;
  // Cheap first: a duplicate delivery costs one read, no Stripe call.
  if (await isEventProcessed(deps.kv, platformId, event.id)) return "duplicate";
  const stripe = deps.stripeFor(await openSecretKey(deps.secrets, connection));
  const object = event.data.object as unknown as Record<string, unknown>;
  const ref = { id: event.id, type: event.type, created: event.created };
  const ignore = async () =>
    await markEventProcessed(deps.kv, platformId, event.id, deps.now())
      ? "ignored" as const
      : "duplicate" as const;

  let userId: string | null;
  let subscriptionId: string | null;
  let customerId: string | null = null;
  if (event.type === "checkout.session.completed") {
    // Re-fetched: the session's customer and subscription must come from this platform's Stripe.
    const session = await fetchOrNull(() => stripe.checkout.sessions.retrieve(String(object.id)));
    if (!session || session.mode !== "subscription") return await ignore();
    const meta = metadataOf(session as unknown as Record<string, unknown>);
    if (meta.platformId !== undefined && meta.platformId !== platformId) return await ignore();
    customerId = idOf(session.customer);
    subscriptionId = idOf(session.subscription);
    userId = meta.userId ?? session.client_reference_id ??
      await ownerIn(deps.kv, platformId, customerId);
  } else {
    subscriptionId = event.type.startsWith("customer.subscription.")
      ? String(object.id)
      : invoiceSubscription(object);
    if (!subscriptionId) return await ignore();
    const meta = metadataOf(object);
    userId = meta.platformId === undefined || meta.platformId === platformId
      ? meta.userId ?? null
      : null;
    if (!userId) {
      // No usable metadata in the payload: the subscription itself, or its customer, says who.
      const subscription = await fetchOrNull(() => stripe.subscriptions.retrieve(subscriptionId!));
      if (!subscription) return await ignore();
      const subMeta = metadataOf(subscription as unknown as Record<string, unknown>);
      if (subMeta.platformId !== undefined && subMeta.platformId !== platformId) {
        return await ignore();
      }
      userId = subMeta.userId ?? await ownerIn(deps.kv, platformId, idOf(subscription.customer));
    }
  }
  if (!userId) return await ignore();

  const tiers = (await getTiers(deps.kv, platformId))?.tiers ?? [];
  const user = userId;
  const outcome = await applyEndUserEvent(deps.kv, {
    platformId,
    userId: user,
    event: ref,
    customerId,
    fetchState: async () => {
      if (!subscriptionId) return null;
      const subscription = await fetchOrNull(() => stripe.subscriptions.retrieve(subscriptionId!));
      if (!subscription) return null;
      const meta = metadataOf(subscription as unknown as Record<string, unknown>);
      if (meta.platformId !== undefined && meta.platformId !== platformId) return null;
      if (meta.userId !== undefined && meta.userId !== user) return null;
      return subscriptionState(subscription, tiers, connection);
    },
  }, deps.now());
  if (outcome === "applied") deps.endUserPlans.forget(platformId, user);
  if (outcome === "foreign") {
    deps.log.log("warn", "a Stripe event names a customer of another end-user; ignored", {
      platformId,
      eventId: event.id,
      type: event.type,
    });
  }
  return outcome;
}

/** A subscription as stored: status, the tier its price maps to, and its current period. */
export function subscriptionState(
  subscription: Stripe.Subscription,
  tiers: readonly Tier[],
  connection: Pick<StripeConnection, "products">,
): SubscriptionState {
  const item = subscription.items?.data?.[0];
  const priceId = item?.price?.id ?? null;
  // Stripe moved current_period_* from the subscription to its items (API 2025-03-31).
  const legacy = subscription as unknown as {
    current_period_start?: number;
    current_period_end?: number;
  };
  return {
    subscriptionId: subscription.id,
    customerId: idOf(subscription.customer)!,
    status: knownStatus(subscription.status),
    tier: tierOfPrice(tiers, connection, priceId, subscription.metadata?.tier),
    priceId,
    created: subscription.created,
    currentPeriodStart: item?.current_period_start ?? legacy.current_period_start ?? null,
    currentPeriodEnd: item?.current_period_end ?? legacy.current_period_end ?? null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
  };
}

/**
 * The platform tier a price pays for: the tier carrying it as `stripePriceId`, else the tier sync
 * made it for, else the subscription's `metadata.tier` when that is a paid tier; else `null`.
 */
export function tierOfPrice(
  tiers: readonly Tier[],
  connection: Pick<StripeConnection, "products">,
  priceId: string | null,
  metadataTier: string | undefined,
): string | null {
  const paid = tiers.filter((t) => t.price > 0);
  if (priceId) {
    const byPrice = paid.find((t) => t.stripePriceId === priceId);
    if (byPrice) return byPrice.id;
    const synced = Object.entries(connection.products).find(([, s]) => s.priceId === priceId);
    if (synced && paid.some((t) => t.id === synced[0])) return synced[0];
  }
  if (metadataTier && paid.some((t) => t.id === metadataTier)) return metadataTier;
  return null;
}

/** The subscription an invoice bills: `parent.subscription_details` (API ≥ 2025-03-31) or `subscription`. */
function invoiceSubscription(invoice: Record<string, unknown>): string | null {
  const parent = invoice.parent as { subscription_details?: { subscription?: unknown } } | null;
  return idOf(parent?.subscription_details?.subscription) ?? idOf(invoice.subscription);
}

/** Our metadata on a session, subscription, or (through its parent) an invoice. */
function metadataOf(object: Record<string, unknown>): { platformId?: string; userId?: string } {
  const parent = object.parent as { subscription_details?: { metadata?: unknown } } | null;
  const sources = [
    object.metadata,
    parent?.subscription_details?.metadata,
    (object.subscription_details as { metadata?: unknown } | null)?.metadata,
  ];
  for (const source of sources) {
    if (typeof source !== "object" || source === null) continue;
    const { platformId, userId } = source as Record<string, unknown>;
    if (typeof platformId === "string" || typeof userId === "string") {
      return {
        platformId: typeof platformId === "string" ? platformId : undefined,
        userId: typeof userId === "string" ? userId : undefined,
      };
    }
  }
  return {};
}

/** The end-user of a customer, only within `platformId`. */
async function ownerIn(
  kv: Deno.Kv,
  platformId: string,
  customerId: string | null,
): Promise<string | null> {
  if (!customerId) return null;
  const owner = await findCustomerOwner(kv, customerId);
  return owner?.platformId === platformId ? owner.userId : null;
}

/** An expandable Stripe field's id. */
function idOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (
    typeof value === "object" && value !== null &&
    typeof (value as { id?: unknown }).id === "string"
  ) {
    return (value as { id: string }).id;
  }
  return null;
}

/**
 * Runs a retrieval in the founder's Stripe: `null` when the object does not exist there (an event
 * naming another account's object); 503 when Stripe cannot be reached or refuses us, so that Stripe
 * retries the delivery later.
 */
async function fetchOrNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    const e = error as { code?: unknown; statusCode?: unknown; type?: unknown; message?: unknown };
    if (e?.code === "resource_missing" || e?.statusCode === 404) return null;
    if (typeof e?.type === "string" && e.type.startsWith("Stripe")) {
      throw new ApiError(
        "unavailable",
        `The founder's Stripe did not answer: ${String(e.message)}`,
      );
    }
    throw error;
  }
}
