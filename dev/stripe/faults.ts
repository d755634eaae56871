/**
 * Injected failures of the `/v1` API, for tests of how dream-api copes when Stripe is having a bad
 * day: every request matching a fault answers its status with a Stripe-shaped error body until the
 * faults are cleared. The bodies are what Stripe sends, so the SDK raises the same classes:
 * 429 → StripeRateLimitError, 403 → StripePermissionError (a restricted key), 404 with
 * `resource_missing` → StripeInvalidRequestError, 5xx → StripeAPIError
 * (https://docs.stripe.com/error-handling, https://docs.stripe.com/keys#limit-access).
 */
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { StripeErrorBody } from "./errors.ts";

/** One injected failure: requests whose `/v1` path starts with `path` (and `method`, if given). */
export interface Fault {
  /** A `/v1/…` path prefix, e.g. `/v1/subscriptions/`. */
  path: string;
  method?: string;
  status: number;
  /** Overrides the body Stripe would send for `status`. */
  error?: Partial<StripeErrorBody>;
}

/** The error body Stripe answers with for `status`. */
export function faultBody(fault: Fault): StripeErrorBody {
  const base: StripeErrorBody = fault.status === 429
    ? {
      type: "invalid_request_error",
      code: "rate_limit",
      message: "Too many requests hit the API too quickly.",
    }
    : fault.status === 403
    ? {
      type: "invalid_request_error",
      message: "The provided key does not have the required permissions for this endpoint.",
    }
    : fault.status === 404
    ? {
      type: "invalid_request_error",
      code: "resource_missing",
      message: "No such object.",
    }
    : fault.status >= 500
    ? { type: "api_error", message: "An unknown error occurred." }
    : { type: "invalid_request_error", message: `Injected failure ${fault.status}.` };
  return { ...base, ...fault.error } as StripeErrorBody;
}

/** Answers matching `/v1` requests with their fault (the first that matches). */
export function injectFaults(faults: Fault[]): MiddlewareHandler {
  return async function injectFaults(c, next) {
    const fault = faults.find((f) =>
      c.req.path.startsWith(f.path) && (!f.method || f.method.toUpperCase() === c.req.method)
    );
    if (!fault) return await next();
    return c.json({ error: faultBody(fault) }, fault.status as ContentfulStatusCode);
  };
}
