/**
 * A platform's founders' webhook endpoint (one per platform: URL, subscribed event types, the
 * signing secret sealed at rest) and its delivery log (one entry per attempt, the newest 100 kept).
 */
import type { Sealed } from "../sealed.ts";
import { ConflictError } from "./errors.ts";
import { keys } from "./keys.ts";
import type { FounderEventType } from "./outbox.ts";

/** The stored endpoint. The secret never leaves sealed except to sign, and once to its founder. */
export interface WebhookEndpoint {
  platformId: string;
  url: string;
  /** The event types sent here; `webhook.test` is always sent. */
  events: FounderEventType[];
  /** `whsec_…`, sealed with `webhookSecretContext(platformId)`. */
  secret: Sealed;
  /** ISO 8601 */
  createdAt: string;
  /** ISO 8601: when the URL or events last changed. */
  updatedAt: string;
  /** ISO 8601: when the secret was last rotated, if ever. */
  rotatedAt: string | null;
}

/**
 * The context the secret is sealed under: not the bare platform id the Stripe keys use, so a sealed
 * Stripe key copied into this record does not open as a signing secret (nor the reverse).
 */
export function webhookSecretContext(platformId: string): string {
  return `webhook:${platformId}`;
}

/** How an attempt ended: `delivered` (2xx), `retrying` (another attempt is scheduled), `failed` (gave up). */
export type DeliveryStatus = "delivered" | "retrying" | "failed";

/** One attempt in the delivery log. */
export interface DeliveryLogEntry {
  /** ms since the epoch */
  at: number;
  eventId: string;
  type: FounderEventType;
  /** 1 for the first attempt. */
  attempt: number;
  status: DeliveryStatus;
  /** The endpoint's HTTP status, when it answered. */
  responseStatus: number | null;
  /** Why the attempt failed without an answer (timeout, refused address, network error). */
  error: string | null;
  /** ms since the epoch of the next attempt (`retrying` only). */
  nextAttemptAt: number | null;
}

/** Entries kept per platform. */
export const DELIVERY_LOG_SIZE = 100;

/** The platform's endpoint, or `null`. */
export async function getWebhookEndpoint(
  kv: Deno.Kv,
  platformId: string,
): Promise<WebhookEndpoint | null> {
  return (await kv.get<WebhookEndpoint>(keys.webhookEndpoint(platformId))).value;
}

/**
 * Creates or changes the endpoint (read → change → compare-and-set, retried). `make` gets the
 * stored endpoint (or `null`) and returns the one to store.
 */
export async function updateWebhookEndpoint(
  kv: Deno.Kv,
  platformId: string,
  make: (current: WebhookEndpoint | null) => WebhookEndpoint | Promise<WebhookEndpoint>,
): Promise<{ before: WebhookEndpoint | null; after: WebhookEndpoint }> {
  const key = keys.webhookEndpoint(platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<WebhookEndpoint>(key);
    const after = await make(entry.value);
    if ((await kv.atomic().check(entry).set(key, after).commit()).ok) {
      return { before: entry.value, after };
    }
  }
  throw new ConflictError("the webhook endpoint changed while saving; try again");
}

/** Removes the endpoint; its log stays until it ages out. Returns whether there was one. */
export async function deleteWebhookEndpoint(kv: Deno.Kv, platformId: string): Promise<boolean> {
  const key = keys.webhookEndpoint(platformId);
  const entry = await kv.get(key);
  if (entry.versionstamp === null) return false;
  await kv.delete(key);
  return true;
}

/** Adds a log entry to an atomic operation (the one that ends or reschedules the attempt). */
export function logDelivery(
  op: Deno.AtomicOperation,
  platformId: string,
  entry: DeliveryLogEntry,
): void {
  op.set(keys.webhookDelivery(platformId, entry.at, entry.eventId, entry.attempt), entry);
}

/** The platform's newest log entries, newest first (at most `DELIVERY_LOG_SIZE`). */
export async function listDeliveries(
  kv: Deno.Kv,
  platformId: string,
  limit = DELIVERY_LOG_SIZE,
): Promise<DeliveryLogEntry[]> {
  const out: DeliveryLogEntry[] = [];
  const iter = kv.list<DeliveryLogEntry>(
    { prefix: keys.webhookDeliveries(platformId) },
    { reverse: true, limit },
  );
  for await (const entry of iter) out.push(entry.value);
  return out;
}

/**
 * Keeps the newest `DELIVERY_LOG_SIZE` entries: deletes what lies beyond them (a few at a time,
 * as each attempt adds one). Not in the attempt's commit: a lost trim only leaves an extra entry
 * that the next one removes.
 */
export async function trimDeliveryLog(kv: Deno.Kv, platformId: string): Promise<number> {
  const stale: Deno.KvKey[] = [];
  let seen = 0;
  const iter = kv.list({ prefix: keys.webhookDeliveries(platformId) }, {
    reverse: true,
    limit: DELIVERY_LOG_SIZE + 50,
  });
  for await (const entry of iter) {
    if (++seen > DELIVERY_LOG_SIZE) stale.push(entry.key);
  }
  for (let i = 0; i < stale.length; i += 10) {
    const op = kv.atomic();
    for (const key of stale.slice(i, i + 10)) op.delete(key);
    await op.commit();
  }
  return stale.length;
}
