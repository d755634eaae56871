/**
 * The delivery loop of founders' webhooks: takes due outbox records (lib/kv/outbox.ts), claims
 * each with a lease so that among several processes on one KV exactly one makes each attempt,
 * and POSTs it, signed (lib/webhooks/signing.ts), to its platform's endpoint.
 *
 * - 2xx: delivered; the record goes, the log gets an entry, in one commit.
 * - Anything else (3xx included: redirects are not followed; a timeout, a refused address, a
 *   network error): retried after `RETRY_DELAYS_MS` (5 s, 30 s, 2 min, … 8 h) until 3 days after
 *   the event, then given up (`failed`).
 * - No endpoint, or one not subscribed to the event's type: the record is deleted and nothing is
 *   sent or logged in the deliveries table (a debug log line says "skipped"); founders who set an
 *   endpoint later do not receive a backlog of old usage events.
 *
 * Bounded: a pass lists at most `batch` due records and runs at most `concurrency` attempts at
 * once; answers' bodies are never read.
 */
import type { Logger } from "../log.ts";
import type { SecretBox } from "../sealed.ts";
import {
  claimDue,
  type ClaimedRecord,
  finishClaimed,
  type FounderEventType,
  listDue,
  rescheduleClaimed,
} from "../kv/outbox.ts";
import {
  type DeliveryLogEntry,
  getWebhookEndpoint,
  logDelivery,
  trimDeliveryLog,
  type WebhookEndpoint,
  webhookSecretContext,
} from "../kv/webhooks.ts";
import { retryTransient } from "../kv/retry.ts";
import { signingKeyOf, webhookHeaders } from "./signing.ts";
import { checkWebhookUrl, type Resolver } from "./url_policy.ts";

/** Delays before the 2nd, 3rd, … attempts; the last repeats until `MAX_AGE_MS`. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  30_000,
  120_000,
  600_000,
  1_800_000,
  3_600_000,
  7_200_000,
  14_400_000,
  28_800_000,
];
/** Events are retried until this long after they happened (3 days), then given up. */
export const MAX_AGE_MS = 3 * 24 * 3600 * 1000;

export interface DeliveryOptions {
  kv: Deno.Kv;
  secrets: SecretBox;
  log: Logger;
  /** Production: https only and public addresses only, checked before every attempt. */
  production: boolean;
  now?: () => number;
  fetch?: typeof fetch;
  resolve?: Resolver;
  /** How often the loop looks for due records (default 1 s). */
  pollMs?: number;
  /** How long a claim holds a record before another process may attempt it (default 30 s). */
  leaseMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Attempts at once in this process (default 8). */
  concurrency?: number;
  /** Records listed per pass (default 64). */
  batch?: number;
  retryDelaysMs?: readonly number[];
  maxAgeMs?: number;
}

/** The result of one attempt, before it is recorded. */
interface Outcome {
  delivered: boolean;
  responseStatus: number | null;
  error: string | null;
  /** The endpoint's `Retry-After` (429/503), in ms, capped at an hour. */
  retryAfterMs?: number;
}

/**
 * The loop. `start()` polls every `pollMs`; `wake()` runs a pass now (this process just queued
 * something); `runPass()` is one pass (what `Deno.cron` calls on Deno Deploy); `stop()` ends the
 * loop and waits for attempts in flight.
 */
export class WebhookDelivery {
  readonly #o: Required<Omit<DeliveryOptions, "resolve">> & { resolve?: Resolver };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<number> | null = null;
  #again = false;
  #stopped = true;

  constructor(options: DeliveryOptions) {
    this.#o = {
      now: Date.now,
      fetch: globalThis.fetch,
      pollMs: 1000,
      leaseMs: 30_000,
      timeoutMs: 10_000,
      concurrency: 8,
      batch: 64,
      retryDelaysMs: RETRY_DELAYS_MS,
      maxAgeMs: MAX_AGE_MS,
      ...options,
    };
  }

  /** Starts polling (idempotent). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops polling and waits for the pass in flight (its attempts finish or their leases lapse). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** Runs a pass as soon as the current one ends: this process queued an event. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#schedule(0);
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(async () => {
      if (this.#stopped) return;
      let full = false;
      do {
        this.#again = false;
        const attempted = await this.runPass().catch((error) => {
          this.#o.log.log("error", "webhook delivery pass failed", { error });
          return 0;
        });
        // A full batch means a backlog: the next pass starts at once, not after `pollMs`.
        full = attempted >= this.#o.batch;
      } while ((this.#again || full) && !this.#stopped);
      if (!this.#stopped) this.#schedule(this.#o.pollMs);
    }, delay);
  }

  /**
   * One pass: claims and attempts what is due now (at most `batch`), `concurrency` at a time.
   * Concurrent calls share the pass in flight. Returns how many attempts this pass made.
   */
  runPass(): Promise<number> {
    if (this.#running) return this.#running;
    this.#running = this.#pass().finally(() => (this.#running = null));
    return this.#running;
  }

  async #pass(): Promise<number> {
    const due = await retryTransient(() => listDue(this.#o.kv, this.#o.now(), this.#o.batch));
    let next = 0, attempted = 0;
    const touched = new Set<string>();
    const worker = async () => {
      while (next < due.length) {
        const item = due[next++];
        const claimed = await retryTransient(() =>
          claimDue(this.#o.kv, item, this.#o.now(), this.#o.leaseMs)
        );
        if (!claimed) continue;
        attempted++;
        touched.add(claimed.record.platformId);
        await this.#attempt(claimed).catch((error) =>
          // The lease lapses and another attempt follows; nothing is lost.
          this.#o.log.log("error", "webhook attempt failed unexpectedly", {
            eventId: claimed.record.id,
            error,
          })
        );
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#o.concurrency, due.length) }, worker),
    );
    // Once per platform and pass, not per attempt: a burst of events lists the log once.
    for (const platformId of touched) {
      await retryTransient(() => trimDeliveryLog(this.#o.kv, platformId)).catch((error) =>
        this.#o.log.log("warn", "webhook log trim failed", { platformId, error })
      );
    }
    return attempted;
  }

  async #attempt(claimed: ClaimedRecord): Promise<void> {
    const { kv, log } = this.#o;
    const { record } = claimed;
    const endpoint = await retryTransient(() => getWebhookEndpoint(kv, record.platformId));
    if (!endpoint || !subscribed(endpoint, record.event.type)) {
      await retryTransient(() => finishClaimed(kv, claimed));
      log.log("debug", "webhook skipped: no endpoint for this event", {
        platformId: record.platformId,
        eventId: record.id,
        type: record.event.type,
      });
      return;
    }
    const startedAt = this.#o.now();
    const outcome = await this.#send(endpoint, record.id, JSON.stringify(record.event));
    const entry: DeliveryLogEntry = {
      at: startedAt,
      eventId: record.id,
      type: record.event.type,
      attempt: record.attempts,
      status: "delivered",
      responseStatus: outcome.responseStatus,
      error: outcome.error,
      nextAttemptAt: null,
    };
    const fields = {
      platformId: record.platformId,
      eventId: record.id,
      type: record.event.type,
      attempt: record.attempts,
      responseStatus: outcome.responseStatus,
      error: outcome.error,
    };
    if (outcome.delivered) {
      await retryTransient(() =>
        finishClaimed(kv, claimed, (op) => logDelivery(op, record.platformId, entry))
      );
      log.log("info", "webhook delivered", fields);
    } else {
      const delays = this.#o.retryDelaysMs;
      // Standard Webhooks: up to 10 % of jitter, so failures do not retry in step; a 429/503's
      // Retry-After is honoured (never sooner than it).
      const delay = Math.max(
        delays[Math.min(record.attempts - 1, delays.length - 1)] * (1 + Math.random() * 0.1),
        outcome.retryAfterMs ?? 0,
      );
      const nextAt = Math.round(this.#o.now() + delay);
      if (nextAt > record.createdAt + this.#o.maxAgeMs) {
        entry.status = "failed";
        await retryTransient(() =>
          finishClaimed(kv, claimed, (op) => logDelivery(op, record.platformId, entry))
        );
        log.log("warn", "webhook failed: gave up after retries", fields);
      } else {
        entry.status = "retrying";
        entry.nextAttemptAt = nextAt;
        await retryTransient(() =>
          rescheduleClaimed(kv, claimed, nextAt, (op) => logDelivery(op, record.platformId, entry))
        );
        log.log("info", "webhook attempt failed; retrying", { ...fields, nextAttemptAt: nextAt });
      }
    }
  }

  /** One POST. Never throws: every failure is an outcome. */
  async #send(endpoint: WebhookEndpoint, id: string, body: string): Promise<Outcome> {
    const verdict = await checkWebhookUrl(endpoint.url, {
      production: this.#o.production,
      resolve: this.#o.resolve,
    });
    if (!verdict.ok) {
      return { delivered: false, responseStatus: null, error: `refused: ${verdict.reason}` };
    }
    let key: CryptoKey;
    try {
      const secret = await this.#o.secrets.open(
        endpoint.secret,
        webhookSecretContext(endpoint.platformId),
      );
      key = await signingKeyOf(secret);
    } catch {
      return { delivered: false, responseStatus: null, error: "the signing secret does not open" };
    }
    try {
      const res = await this.#o.fetch(verdict.url, {
        method: "POST",
        headers: await webhookHeaders(key, id, new Date(this.#o.now()), body),
        body,
        // Standard Webhooks: a 3xx is a failure (and following it could reach a refused address).
        redirect: "manual",
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      // The body is never read: what founders answer does not matter beyond the status.
      await res.body?.cancel().catch(() => {});
      const delivered = res.status >= 200 && res.status < 300;
      return {
        delivered,
        responseStatus: res.status,
        error: null,
        retryAfterMs: retryAfterMs(res),
      };
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      return {
        delivered: false,
        responseStatus: null,
        error: timedOut
          ? `timed out after ${this.#o.timeoutMs / 1000} s`
          : `could not connect (${error instanceof Error ? error.name : "error"})`,
      };
    }
  }
}

/** A 429 or 503's `Retry-After` in whole seconds (RFC 9110 §10.2.3), as ms capped at an hour. */
function retryAfterMs(res: Response): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const seconds = /^\d{1,9}$/.exec(res.headers.get("retry-after")?.trim() ?? "")?.[0];
  return seconds === undefined ? undefined : Math.min(Number(seconds) * 1000, 3_600_000);
}

/** Whether an endpoint takes an event type (`webhook.test` always). */
export function subscribed(endpoint: WebhookEndpoint, type: FounderEventType): boolean {
  return type === "webhook.test" || endpoint.events.includes(type);
}
