/**
 * Injected failures of the `/v1` API and of Connect's `/oauth` endpoints, for tests of how dream-api copes when Stripe is having a bad
 * day: every request matching a fault answers its status with a Stripe-shaped error body until the
 * faults are cleared. The bodies are what Stripe sends, so the SDK raises the same classes:
 * 429 → StripeRateLimitError, 403 → StripePermissionError (a restricted key), 404 with
 * `resource_missing` → StripeInvalidRequestError, 5xx → StripeAPIError
 * (https://docs.stripe.com/error-handling, https://docs.stripe.com/keys#limit-access).
 */
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { StripeErrorBody } from "./errors.ts";

/** One injected failure: requests whose path starts with `path` (and `method`, if given). */
export interface Fault {
  /** A `/v1/…` or `/oauth/…` path prefix, e.g. `/v1/subscriptions/` or `/oauth/token`. */
  path: string;
  method?: string;
  /** The status to answer (required unless `down`). */
  status?: number;
  /** Overrides the body Stripe would send for `status`. */
  error?: Partial<StripeErrorBody>;
  /** Replaces the whole JSON body, e.g. `{ error: "invalid_grant", error_description: "…" }`. */
  body?: Record<string, unknown>;
  /**
   * Stripe unreachable: the connection breaks before an answer arrives (the SDK raises
   * StripeConnectionError). Deno logs the broken response body; that line is expected.
   */
  down?: boolean;
}

/** The error body Stripe answers with for `status`: OAuth's shape for 4xx on `/oauth`. */
export function faultBody(fault: Fault): StripeErrorBody | Record<string, unknown> {
  if (fault.body) return fault.body;
  if (fault.path.startsWith("/oauth") && status(fault) < 500) {
    return { error: "invalid_request", error_description: `Injected failure ${status(fault)}.` };
  }
  return { error: v1Body(fault) };
}

function status(fault: Fault): number {
  return fault.status ?? 503;
}

function v1Body(fault: Fault): StripeErrorBody {
  const code = status(fault);
  const base: StripeErrorBody = code === 429
    ? {
      type: "invalid_request_error",
      code: "rate_limit",
      message: "Too many requests hit the API too quickly.",
    }
    : code === 403
    ? {
      type: "invalid_request_error",
      message: "The provided key does not have the required permissions for this endpoint.",
    }
    : code === 404
    ? {
      type: "invalid_request_error",
      code: "resource_missing",
      message: "No such object.",
    }
    : code >= 500
    ? { type: "api_error", message: "An unknown error occurred." }
    : { type: "invalid_request_error", message: `Injected failure ${code}.` };
  return { ...base, ...fault.error } as StripeErrorBody;
}

/** Answers matching requests with their fault (the first that matches). */
export function injectFaults(faults: Fault[]): MiddlewareHandler {
  return async function injectFaults(c, next) {
    const fault = faults.find((f) =>
      c.req.path.startsWith(f.path) && (!f.method || f.method.toUpperCase() === c.req.method)
    );
    if (!fault) return await next();
    if (fault.down) {
      const broken = new ReadableStream({
        pull: (controller) => controller.error(new Error("local Stripe: injected outage")),
      });
      return new Response(broken, { headers: { "Content-Type": "application/json" } });
    }
    return c.json(faultBody(fault), status(fault) as ContentfulStatusCode);
  };
}
