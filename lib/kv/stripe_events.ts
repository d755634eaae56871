/**
 * Markers of processed Stripe events (`keys.stripeEvent`), for both webhooks: `scope` is
 * `OWN_STRIPE_SCOPE` for dream-api's own account, or the platform id for a founder's account. A
 * marker is written in the same atomic commit as the event's effect, so a redelivered event is
 * applied once; markers expire after Stripe's retry window.
 */
import { keys } from "./keys.ts";

/**
 * The event scope of dream-api's own Stripe account (the founders' $29 subscriptions). Its value
 * keeps the old word: it is part of marker keys already stored.
 */
export const OWN_STRIPE_SCOPE = "platform";

/** Markers outlive Stripe's retries (up to 3 days) by far. */
export const EVENT_MARKER_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** What an event marker holds. */
export interface ProcessedEvent {
  processedAt: string;
}

/** Whether an event id of `scope` was already processed. */
export async function isEventProcessed(
  kv: Deno.Kv,
  scope: string,
  eventId: string,
): Promise<boolean> {
  return (await kv.get(keys.stripeEvent(scope, eventId))).versionstamp !== null;
}

/** Adds the event's marker to `op`, which then commits only if no marker exists yet. */
export function markInCommit(
  op: Deno.AtomicOperation,
  scope: string,
  eventId: string,
  now: Date,
): Deno.AtomicOperation {
  const key = keys.stripeEvent(scope, eventId);
  const marker: ProcessedEvent = { processedAt: now.toISOString() };
  return op.check({ key, versionstamp: null }).set(key, marker, { expireIn: EVENT_MARKER_TTL_MS });
}

/**
 * Marks an event processed that changes no record (ignored type, unknown founder or end-user).
 * False when it already was.
 */
export async function markEventProcessed(
  kv: Deno.Kv,
  scope: string,
  eventId: string,
  now: Date,
): Promise<boolean> {
  return (await markInCommit(kv.atomic(), scope, eventId, now).commit()).ok;
}
