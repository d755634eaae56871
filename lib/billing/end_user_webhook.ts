/**
 * `/webhook/stripe`: the events of every founder's Stripe account, at one URL.
 *
 * 1. Know the platform before reading the body: the endpoint sync creates in a founder's Stripe is
 *    `/webhook/stripe?platform=<platformId>`, so the secret to verify with comes from the URL. The
 *    raw body is verified with THAT platform's webhook secret (±300 s) and only then parsed; an
 *    unknown platform or a bad signature is 400 and nothing is parsed.
 * 2. Without `?platform=`, a delivery is first checked against the Connect endpoint's secret
 *    (`STRIPE_CONNECT_WEBHOOK_SECRET`: one HMAC, nothing parsed before it passes): a connected
 *    account's event names its account in `account`, and the `platformByStripeAccount` index its
 *    platform (an account nobody connected is acknowledged and ignored).
 *    Only when that check fails, endpoints created before the URL named its platform (sync
 *    re-points them on its next run) are served by a bounded fallback: after the header passed
 *    its checks, the body is parsed to find candidate platforms (our `metadata.platformId`, the
 *    customer → platform index, the `account`), whose secrets are tried. See `legacyLookups`.
 * 3. From here on, everything is scoped to the verified platform: objects are re-fetched from its
 *    founder's Stripe with its key (Stripe's advice for ordering: store what Stripe says now, not
 *    what the event said then), and only its end-users' records are written, each together with
 *    the event's marker, so an event id takes effect once per platform.
 */
import type Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import {
  applyEndUserEvent,
  type EndUserBilling,
  entitlement,
  findCustomerOwner,
  type SubscriptionState,
} from "../kv/end_users.ts";
import { queueEvent } from "../kv/outbox.ts";
import { isEventProcessed, markEventProcessed } from "../kv/stripe_events.ts";
import { keys } from "../kv/keys.ts";
import {
  getStripeConnection,
  openWebhookSecret,
  platformOfStripeAccount,
  type StripeConnection,
} from "../kv/platform_stripe.ts";
import { getTiers } from "../kv/tiers.ts";
import { UserIdSchema } from "../schemas/tenant.ts";
import type { Tier } from "../schemas/tiers.ts";
import { eventObject, isHandledEvent, knownStatus } from "./events.ts";
import { refetch } from "./stripe_refetch.ts";
import { stripeForPlatform } from "./stripe_client.ts";
import { disconnectDeauthorized } from "./stripe_connect.ts";
import {
  hasValidSignature,
  parseSignatureHeader,
  parseVerifiedEvent,
  type SignatureHeader,
  stripeEventOf,
} from "./webhook_signature.ts";

type WebhookDeps = Pick<
  Deps,
  | "kv"
  | "stripeFor"
  | "secrets"
  | "now"
  | "log"
  | "endUserPlans"
  | "config"
  | "tenants"
  | "webhooks"
>;

export type EndUserEventOutcome =
  | "applied"
  | "stale"
  | "duplicate"
  | "ignored"
  | "foreign"
  | "unknown_subscription"
  | "unknown_checkout_session"
  | "forbidden"
  | "unknown_account"
  | "disconnected";

const UNVERIFIED = "The Stripe-Signature does not verify with the webhook secret of the platform " +
  "this event belongs to.";

/** One delivery to `/webhook/stripe`, as the route hands it over. */
export interface EndUserDelivery {
  /** The URL's `?platform=`; absent on endpoints created before sync put it there. */
  platformId?: string;
  /** The `Stripe-Signature` header. */
  signature: string | undefined;
  /** Reads the raw body; called only once the header passed its checks. */
  body: () => Promise<Uint8Array>;
}

/**
 * A small counter of operations in flight, refusing past `limit` instead of queueing (a queue
 * would hold the very bodies the bound is there to limit).
 */
export class InFlightLimit {
  #inFlight = 0;
  constructor(readonly limit: number) {}
  /** Slots taken now. */
  get inFlight(): number {
    return this.#inFlight;
  }
  /** Takes a slot; `false` when all `limit` are taken. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.limit) return false;
    this.#inFlight++;
    return true;
  }
  /** Gives a slot back (in a `finally`, once per successful `tryAcquire`). */
  release(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }
}

/**
 * The fallback's bound, per process. Without `?platform=`, the body must be parsed before it is
 * verified, and parsing is the costly step for a stranger's body: a 512 KiB body of small JSON
 * objects becomes many megabytes of heap, and a few dozen at once exhausted a 96 MiB heap. Only
 * the header's form and its ±300 s window are checked before (they cost nothing and turn away
 * garbage and replays); then at most `limit` fallback lookups (parse, candidate platforms, HMAC)
 * run at once in this process; more answer 503 `unavailable` with Retry-After at once, without
 * reading their bodies, which Stripe retries. The slot covers reading the body too, so this path
 * holds at most 2 × 512 KiB of bodies and their parses whatever the flood (where Connect is
 * configured, the body was already read for the Connect HMAC, within the per-process body budget,
 * and only its parse is behind the slot). Two is plenty: only endpoints that no sync has
 * re-pointed yet use this path, and a lookup takes milliseconds. The
 * price: a client trickling its body holds a slot until the server's body timeout, so a stranger
 * can make old-style deliveries wait (Stripe retries them, and a sync ends the need for the path),
 * but cannot make the process buffer or parse more.
 */
export const legacyLookups: InFlightLimit = new InFlightLimit(2);

/**
 * Verifies a delivery and acts on it. 400 `invalid_request` (nothing changes, nothing parsed) for
 * a missing, malformed or out-of-window header, an unknown platform or a bad signature; 400 for a
 * verified body that is not an event; 503 when the founder's Stripe cannot answer now (Stripe
 * retries) or when the old-style fallback is busy.
 */
export async function receiveEndUserEvent(
  deps: WebhookDeps,
  delivery: EndUserDelivery,
): Promise<{ platformId: string | null; eventId: string; outcome: EndUserEventOutcome }> {
  const header = parseSignatureHeader(delivery.signature);
  let readBody = delivery.body;
  if (delivery.platformId === undefined && deps.config.stripe.connect.webhookSecret) {
    const body = await delivery.body();
    if (hasValidSignature(body, header, deps.config.stripe.connect.webhookSecret)) {
      return await receiveConnectEvent(deps, parseVerifiedEvent(body));
    }
    readBody = () => Promise.resolve(body);
  }
  const verified = delivery.platformId === undefined
    ? await identifyOldStyle(deps, header, readBody)
    : await verifyForPlatform(deps, delivery.platformId, header, readBody);
  const { connection, event } = verified;
  const outcome = await handleEndUserEvent(deps, connection, event);
  return { platformId: connection.platformId, eventId: event.id, outcome };
}

/**
 * An event verified with the Connect endpoint's secret: its `account` names the connected account,
 * and the `platformByStripeAccount` index the platform. An account no platform has connected (one
 * that disconnected, or a stranger's test) is acknowledged and ignored: Stripe would otherwise
 * retry it for days and then disable the endpoint every platform shares.
 */
async function receiveConnectEvent(
  deps: WebhookDeps,
  event: Stripe.Event,
): Promise<{ platformId: string | null; eventId: string; outcome: EndUserEventOutcome }> {
  const account = typeof event.account === "string" && event.account.length <= MAX_ID
    ? event.account
    : null;
  const platformId = account && await platformOfStripeAccount(deps.kv, account);
  const connection = platformId && await getStripeConnection(deps.kv, platformId);
  if (!account || !platformId || !connection || connection.accountId !== account) {
    deps.log.log("info", "a Connect event for an account no platform has connected; ignored", {
      eventId: event.id,
      type: event.type,
      account,
    });
    return { platformId: null, eventId: event.id, outcome: "unknown_account" };
  }
  if (event.type === "account.application.deauthorized") {
    const outcome = await disconnectDeauthorized(deps, connection, event);
    return { platformId, eventId: event.id, outcome };
  }
  return {
    platformId,
    eventId: event.id,
    outcome: await handleEndUserEvent(deps, connection, event),
  };
}

interface Verified {
  connection: StripeConnection;
  event: Stripe.Event;
}

/** `?platform=`: the platform's secret verifies the raw body before anything parses it. */
async function verifyForPlatform(
  deps: WebhookDeps,
  platformId: string,
  header: SignatureHeader,
  readBody: () => Promise<Uint8Array>,
): Promise<Verified> {
  const connection = await getStripeConnection(deps.kv, platformId);
  const secret = connection && await webhookSecretOf(deps, connection);
  if (!connection || !secret) throw new ApiError("invalid_request", UNVERIFIED);
  const body = await readBody();
  if (!hasValidSignature(body, header, secret)) {
    throw new ApiError("invalid_request", UNVERIFIED);
  }
  return { connection, event: parseVerifiedEvent(body) };
}

/** No `?platform=`: a bounded parse finds the candidates whose secrets are tried. */
async function identifyOldStyle(
  deps: WebhookDeps,
  header: SignatureHeader,
  readBody: () => Promise<Uint8Array>,
): Promise<Verified> {
  if (!legacyLookups.tryAcquire()) {
    throw new ApiError(
      "unavailable",
      "Too many deliveries to /webhook/stripe without ?platform= at once; retry later.",
    );
  }
  try {
    const body = await readBody();
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch {
      throw new ApiError("invalid_request", "The body is not UTF-8 JSON.");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      throw new ApiError("invalid_request", "The payload is not a Stripe event.");
    }
    for (const platformId of await candidatePlatforms(deps.kv, payload as RawEvent)) {
      const connection = await getStripeConnection(deps.kv, platformId);
      const secret = connection && await webhookSecretOf(deps, connection);
      if (!connection || !secret || !hasValidSignature(body, header, secret)) continue;
      const event = stripeEventOf(payload);
      deps.log.log(
        "warn",
        "an old-style endpoint (/webhook/stripe without ?platform=) delivered an event; the platform's next sync re-points it",
        { platformId, eventId: event.id, type: event.type },
      );
      return { connection, event };
    }
    throw new ApiError("invalid_request", UNVERIFIED);
  } finally {
    legacyLookups.release();
  }
}

/** The platform's webhook secret; `null` before its first sync or when it does not decrypt. */
async function webhookSecretOf(
  deps: WebhookDeps,
  connection: StripeConnection,
): Promise<string | null> {
  try {
    return await openWebhookSecret(deps.secrets, connection);
  } catch (error) {
    deps.log.log("error", "a platform's webhook secret does not decrypt", {
      platformId: connection.platformId,
      error,
    });
    return null;
  }
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
 * Events we cannot use are acknowledged and marked (`ignored`, or Stripe's reason when it would
 * not give us the object: `unknown_subscription`, `unknown_checkout_session`, `forbidden`), so a
 * redelivery is a `duplicate`; Stripe failures a retry can cure throw 503 (see `refetch`).
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
  const ref = { id: event.id, type: event.type, created: event.created };
  // Why Stripe would not hand over what the event names, when it would not (the first reason).
  let refusal: { outcome: EndUserEventOutcome; message: string } | null = null;
  const acknowledged = (outcome: EndUserEventOutcome, why: string) => {
    const final = refusal?.outcome ?? outcome;
    deps.log.log("info", "a Stripe event we cannot use was acknowledged", {
      platformId,
      eventId: event.id,
      type: event.type,
      outcome: final,
      reason: refusal?.message ?? why,
    });
    return final;
  };
  const ignore = async (why: string) =>
    await markEventProcessed(deps.kv, platformId, event.id, deps.now())
      ? acknowledged("ignored", why)
      : "duplicate" as const;

  const object = eventObject(event);
  if (!object) return await ignore("data.object is not an object");
  const stripe = await stripeForPlatform(deps, connection);
  const retrieve = async <T>(
    missing: EndUserEventOutcome,
    call: () => Promise<T>,
  ): Promise<T | null> => {
    const got = await refetch(call);
    if (got.ok) return got.value;
    refusal ??= { outcome: got.reason === "missing" ? missing : "forbidden", message: got.message };
    return null;
  };
  const retrieveSubscription = (id: string) =>
    retrieve("unknown_subscription", () => stripe.subscriptions.retrieve(id));

  let userId: string | null;
  let subscriptionId: string | null;
  let customerId: string | null = null;
  if (event.type === "checkout.session.completed") {
    const sessionId = idOf(object.id);
    if (!sessionId) return await ignore("the session has no id");
    // Re-fetched: the session's customer and subscription must come from this platform's Stripe.
    const session = await retrieve(
      "unknown_checkout_session",
      () => stripe.checkout.sessions.retrieve(sessionId),
    );
    if (!session) return await ignore("the session is not in this platform's Stripe");
    if (session.mode !== "subscription") return await ignore("not a subscription checkout");
    const meta = metadataOf(session as unknown as Record<string, unknown>);
    if (meta.platformId !== undefined && meta.platformId !== platformId) {
      return await ignore("the session belongs to another platform");
    }
    customerId = idOf(session.customer);
    subscriptionId = idOf(session.subscription);
    userId = meta.userId ?? validUserId(session.client_reference_id) ??
      await ownerIn(deps.kv, platformId, customerId);
  } else {
    subscriptionId = event.type.startsWith("customer.subscription.")
      ? idOf(object.id)
      : invoiceSubscription(object);
    if (!subscriptionId) return await ignore("the event names no subscription");
    const meta = metadataOf(object);
    userId = meta.platformId === undefined || meta.platformId === platformId
      ? meta.userId ?? null
      : null;
    if (!userId) {
      // No usable metadata in the payload: the subscription itself, or its customer, says who.
      const subscription = await retrieveSubscription(subscriptionId);
      if (!subscription) return await ignore("the subscription is not in this platform's Stripe");
      const subMeta = metadataOf(subscription as unknown as Record<string, unknown>);
      if (subMeta.platformId !== undefined && subMeta.platformId !== platformId) {
        return await ignore("the subscription belongs to another platform");
      }
      userId = subMeta.userId ?? await ownerIn(deps.kv, platformId, idOf(subscription.customer));
    }
  }
  if (!userId) return await ignore("no end-user of this platform");

  const tiers = (await getTiers(deps.kv, platformId))?.tiers ?? [];
  const user = userId;
  const outcome = await applyEndUserEvent(deps.kv, {
    platformId,
    userId: user,
    event: ref,
    customerId,
    fetchState: async () => {
      if (!subscriptionId) return null;
      const subscription = await retrieveSubscription(subscriptionId);
      if (!subscription) return null;
      const meta = metadataOf(subscription as unknown as Record<string, unknown>);
      if (meta.platformId !== undefined && meta.platformId !== platformId) return null;
      if (meta.userId !== undefined && meta.userId !== user) return null;
      return subscriptionState(subscription, tiers, connection);
    },
    alsoInCommit: (op, before, after) => queuePlanChange(op, tiers, before, after, deps.now()),
  }, deps.now());
  if (outcome === "applied") {
    await deps.endUserPlans.forget(platformId, user);
    deps.webhooks?.wake(); // a subscription.updated may be in the outbox now
  }
  if (outcome === "foreign") {
    deps.log.log("warn", "a Stripe event names a customer of another end-user; ignored", {
      platformId,
      eventId: event.id,
      type: event.type,
    });
  }
  if (outcome === "ignored") return acknowledged("ignored", "nothing of this end-user to change");
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
        userId: validUserId(userId) ?? undefined,
      };
    }
  }
  return {};
}

/** `value` when it can be an end-user id of ours (what `X-User-Id` accepts), else `null`. */
function validUserId(value: unknown): string | null {
  return UserIdSchema.safeParse(value).success ? value as string : null;
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
  const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : value;
  // Stripe's ids are short; a long one is not Stripe's, and would not fit a KV key.
  return typeof id === "string" && id.length > 0 && id.length <= MAX_ID ? id : null;
}

/**
 * Queues the founders' `subscription.updated` event in the commit of an end-user's billing change
 * when the tier it entitles to changes (from/to: tier ids, the default tier when no subscription
 * entitles; status: the subscription's Stripe status).
 */
function queuePlanChange(
  op: Deno.AtomicOperation,
  tiers: readonly Tier[],
  before: EndUserBilling | null,
  after: EndUserBilling,
  now: Date,
): void {
  // The tier a call counts against without a subscription (resolvePlan's default: the first free one).
  const fallback = tiers.find((t) => t.price === 0)?.id ?? null;
  const from = entitlement(before)?.tier ?? fallback;
  const to = entitlement(after)?.tier ?? fallback;
  if (from === to) return;
  queueEvent(op, after.platformId, {
    type: "subscription.updated",
    timestamp: now.toISOString(),
    data: { platformId: after.platformId, userId: after.userId, from, to, status: after.status },
  }, now.getTime());
}
