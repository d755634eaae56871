/**
 * What a webhook does when Stripe will not hand over the object an event names, for both webhooks
 * (`/webhook/stripe` re-fetches from a founder's Stripe, `/webhook/platform` from ours).
 *
 * Stripe retries a delivery that gets no 2xx, for up to three days, then may disable the endpoint.
 * So the answer depends on whether a retry can succeed:
 * - Stripe unreachable, a 5xx, a 429 (rate limit) or a 409 (lock timeout): it can → 503
 *   `unavailable` with Retry-After, nothing recorded, and Stripe's retry finds the event fresh;
 *   a 401 too, since the founder can reconnect a working key within Stripe's retry window;
 * - the object does not exist in that account (404 / `resource_missing`), or the key may not read
 *   it (403, a restricted key): it cannot → the event is acknowledged with an outcome and logged.
 */
import { ApiError } from "../errors.ts";

/** How a failed Stripe call is answered: retry later, a 2xx with an outcome, or a bug (thrown on). */
export type StripeFailureKind = "retry" | "missing" | "forbidden" | "unexpected";

/** Sorts an error of the `stripe` SDK (or anything else) into a `StripeFailureKind`. */
export function classifyStripeFailure(error: unknown): StripeFailureKind {
  if (typeof error !== "object" || error === null) return "unexpected";
  const e = error as { type?: unknown; statusCode?: unknown; code?: unknown };
  if (typeof e.type !== "string" || !e.type.startsWith("Stripe")) return "unexpected";
  const status = typeof e.statusCode === "number" ? e.statusCode : null;
  if (e.code === "resource_missing" || status === 404) return "missing";
  if (e.type === "StripePermissionError" || status === 403) return "forbidden";
  if (
    status === null || status >= 500 || status === 429 || status === 409 || status === 401 ||
    e.type === "StripeConnectionError" || e.type === "StripeAPIError" ||
    e.type === "StripeRateLimitError"
  ) {
    return "retry";
  }
  return "unexpected";
}

/** The object, or why Stripe would not give it (a retry cannot help either way). */
export type Refetched<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "missing" | "forbidden"; message: string };

/**
 * Runs a retrieval a webhook depends on. Stripe's "no such object" and "not allowed" come back as
 * values (the caller acknowledges the event with an outcome); a failure a retry can cure throws
 * 503 `unavailable`; anything else is a bug and is thrown as it is.
 * @example const got = await refetch(() => stripe.subscriptions.retrieve(id));
 */
export async function refetch<T>(call: () => Promise<T>): Promise<Refetched<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const kind = classifyStripeFailure(error);
    const message = String((error as { message?: unknown })?.message ?? error);
    if (kind === "missing" || kind === "forbidden") return { ok: false, reason: kind, message };
    if (kind === "retry") {
      throw new ApiError("unavailable", `Stripe did not answer; Stripe will retry: ${message}`);
    }
    throw error;
  }
}
