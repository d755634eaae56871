/**
 * Founders' own subscriptions to dream-api (dream-api's Stripe account), with the customer → founder
 * index. Written by the `/webhook/platform` handlers; read by the paid gate and `GET /me`.
 */
import type { SubscriptionStatus } from "../schemas/subscriptions.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";
import { markInCommit, OWN_STRIPE_SCOPE } from "./stripe_events.ts";
import { supersedes } from "./supersedes.ts";

export type { SubscriptionStatus };

export interface FounderSubscription {
  userId: string;
  status: SubscriptionStatus;
  customerId: string | null;
  subscriptionId: string | null;
  /** When Stripe created the subscription (unix s): the newer of two live subscriptions wins. */
  subscriptionCreated: number | null;
  /** `created` of the event that last changed this record (unix s). */
  eventCreated: number;
  /** Id of the event that last changed this record. */
  eventId: string | null;
  updatedAt: string;
}

/** Statuses that open the configuration API. */
export const PAID_STATUSES: ReadonlySet<SubscriptionStatus> = new Set(["active", "trialing"]);

/** Whether a status opens configuration. */
export function isPaid(status: SubscriptionStatus): boolean {
  return PAID_STATUSES.has(status);
}

/** A founder's subscription record, or `null` when they never subscribed. */
export async function getFounderSubscription(
  kv: Deno.Kv,
  userId: string,
): Promise<FounderSubscription | null> {
  return (await kv.get<FounderSubscription>(keys.founderSubscription(userId))).value;
}

/** The founder a dream-api Stripe customer belongs to, or `null`. */
export async function founderOfCustomer(kv: Deno.Kv, customerId: string): Promise<string | null> {
  return (await kv.get<string>(keys.founderByCustomer(customerId))).value;
}

/** What Stripe says about a subscription now (or at an event), to be merged into the record. */
export interface SubscriptionSnapshot {
  subscriptionId: string;
  customerId: string | null;
  status: Exclude<SubscriptionStatus, "none">;
  /** The subscription's own `created` (unix s). */
  created: number;
  eventId: string;
  eventCreated: number;
}

/**
 * Applies a snapshot to a founder's record and marks the event processed, in one atomic commit
 * (record, customer index, event marker). Returns `"duplicate"` when the event was already
 * processed, `"stale"` when the record already holds newer state (the event is still marked).
 */
export async function applySubscriptionSnapshot(
  kv: Deno.Kv,
  userId: string,
  snapshot: SubscriptionSnapshot,
  now: Date,
): Promise<"applied" | "stale" | "duplicate"> {
  const eventKey = keys.stripeEvent(OWN_STRIPE_SCOPE, snapshot.eventId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const [entry, marker] = await kv.getMany<[FounderSubscription, unknown]>([
      keys.founderSubscription(userId),
      eventKey,
    ]);
    if (marker.versionstamp !== null) return "duplicate";
    const op = markInCommit(kv.atomic().check(entry), OWN_STRIPE_SCOPE, snapshot.eventId, now);
    // Snapshots are fetched from Stripe, but two handlers may still finish in either order.
    const apply = supersedes(entry.value, snapshot, "event");
    if (apply) {
      const record: FounderSubscription = {
        userId,
        status: snapshot.status,
        customerId: snapshot.customerId ?? entry.value?.customerId ?? null,
        subscriptionId: snapshot.subscriptionId,
        subscriptionCreated: snapshot.created,
        eventCreated: Math.max(snapshot.eventCreated, entry.value?.eventCreated ?? 0),
        eventId: snapshot.eventId,
        updatedAt: now.toISOString(),
      };
      op.set(keys.founderSubscription(userId), record);
      if (record.customerId) op.set(keys.founderByCustomer(record.customerId), userId);
    }
    const result = await op.commit();
    if (result.ok) return apply ? "applied" : "stale";
  }
  throw new ConflictError("the founder's subscription kept changing; try again");
}

/**
 * Sets a founder's subscription directly (tests and the admin command; production changes arrive
 * only through verified webhooks).
 */
export async function putFounderSubscription(
  kv: Deno.Kv,
  userId: string,
  input: {
    status: SubscriptionStatus;
    customerId?: string | null;
    subscriptionId?: string | null;
    now?: Date;
  },
): Promise<FounderSubscription> {
  const now = input.now ?? new Date();
  const record: FounderSubscription = {
    userId,
    status: input.status,
    customerId: input.customerId ?? null,
    subscriptionId: input.subscriptionId ?? null,
    subscriptionCreated: null,
    eventCreated: Math.floor(now.getTime() / 1000),
    eventId: null,
    updatedAt: now.toISOString(),
  };
  const op = kv.atomic().set(keys.founderSubscription(userId), record);
  if (record.customerId) op.set(keys.founderByCustomer(record.customerId), userId);
  await op.commit();
  return record;
}
