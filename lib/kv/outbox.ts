/**
 * The outbox of founders' webhook events. An event is written here in the same atomic commit as
 * the change that caused it (the count that crosses a threshold, the plan change of a Stripe
 * event), so it exists exactly when its cause does: never lost if the process dies after the
 * commit, never written for a commit that failed. A delivery loop (lib/webhooks/) claims due
 * records with a lease and sends them; `kv.enqueue` is not used because Deno Deploy's current KV
 * and KV Connect (`denokv`) do not run queues.
 */
import { keys } from "./keys.ts";
import type { CommitCost } from "./packing.ts";

/** The events founders can receive. */
export type FounderEventType =
  | "usage.near_limit"
  | "usage.limit_reached"
  | "subscription.updated"
  | "webhook.test";

/** An event as founders receive it (the JSON body of the delivery). */
export interface FounderEvent {
  type: FounderEventType;
  /** ISO 8601 time the event happened. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** A stored event and the state of its delivery. */
export interface OutboxRecord {
  /** `msg_…`: the `webhook-id` of every attempt, so founders can de-duplicate retries. */
  id: string;
  platformId: string;
  event: FounderEvent;
  /** ms since the epoch */
  createdAt: number;
  /** attempts made so far */
  attempts: number;
  /** ms since the epoch the next attempt is due (also the time in its `outboxDue` index key) */
  dueAt: number;
}

/** A new event id (`msg_` + 26 base32 characters of randomness). */
export function newEventId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let id = "msg_";
  for (let i = 0; i < 26; i++) id += alphabet[(bytes[(i * 5) >> 3] >> (i % 8)) & 31];
  return id;
}

/** Upper bound of what `queueEvent` adds to a commit (for the meter's commit budget). */
export const QUEUE_EVENT_COST: CommitCost = { mutations: 2, keyBytes: 128, mutationBytes: 2048 };

/**
 * Adds an event to an atomic operation: the record and its due index, due at once. The caller
 * commits; the event exists if and only if that commit succeeds. Returns its id.
 */
export function queueEvent(
  op: Deno.AtomicOperation,
  platformId: string,
  event: FounderEvent,
  now: number,
): string {
  const id = newEventId();
  const record: OutboxRecord = { id, platformId, event, createdAt: now, attempts: 0, dueAt: now };
  op.set(keys.outbox(id), record);
  op.set(keys.outboxDue(now, id), id);
  return id;
}
