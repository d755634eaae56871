/**
 * What each error code means, with an example message, for the OpenAPI document and `/docs`.
 * Typed as a record over `ErrorCode`: a code added to `lib/errors.ts` without a line here fails
 * type-checking, so the reference can never miss one.
 */
import { type ErrorCode, INTERNAL_MESSAGE, UNAUTHORIZED_MESSAGE } from "../errors.ts";

export interface ErrorDoc {
  /** When the API answers with this code. */
  meaning: string;
  /** A message as the API writes it. */
  example: string;
}

export const ERROR_DOCS: Record<ErrorCode, ErrorDoc> = {
  invalid_request: {
    meaning:
      "A header, query parameter or body field is missing or malformed; the message names it.",
    example: "amount: must be an integer from 1 to 1000000",
  },
  unauthorized: {
    meaning:
      "No credentials, or they are wrong, revoked or expired. One message for every cause, so keys cannot be probed.",
    example: UNAUTHORIZED_MESSAGE,
  },
  subscription_required: {
    meaning: "Configuring a platform needs an active or trialing dream-api subscription.",
    example:
      "Configuration needs an active dream-api subscription (yours is 'none'). Subscribe at /dashboard/billing.",
  },
  forbidden: {
    meaning:
      "A cookie-authenticated change came from another site (CSRF check). Bearer calls are never refused this way.",
    example: "Cross-site request refused (CSRF check).",
  },
  feature_not_included: {
    meaning:
      "The end-user's tier does not include the feature named. `details.upgradeTo` is the cheapest tier that does (or null), so your UI can offer the upgrade.",
    example:
      "Plan 'free' does not include feature 'exports'; the cheapest plan that does is 'pro'.",
  },
  not_found: {
    meaning: "No such route, or the thing asked for does not exist (yet).",
    example: "You have no platform yet: POST /dashboard/api/platform first.",
  },
  method_not_allowed: {
    meaning: "The path exists but not with this method; the Allow header lists the methods.",
    example: "Use POST for /api/data.",
  },
  request_timeout: {
    meaning:
      "The request body did not arrive within 30 s of its start; the connection is closed. Nothing was done.",
    example: "The request body did not arrive within 30 s.",
  },
  conflict: {
    meaning:
      "The change clashes with the current state (for example, a second platform), or an Idempotency-Key was reused with another request.",
    example: "You already have a platform; rotate its key instead.",
  },
  stripe_not_connected: {
    meaning: "The platform has not connected its Stripe account yet.",
    example:
      "This platform has not connected its Stripe account yet; its founder does so in the dashboard.",
  },
  payload_too_large: {
    meaning: "The request body is over 16 KiB.",
    example: "The body must be at most 16384 bytes.",
  },
  stripe_rejected: {
    meaning: "Stripe refused the secret key; the message is Stripe's.",
    example: "Stripe: Invalid API Key provided: sk_test_****1234",
  },
  limit_exceeded: {
    meaning:
      "The amount does not fit in the end-user's limit this period: nothing was counted. Retry-After says when the period ends.",
    example: "Usage limit reached: 1 more would exceed 100 for plan 'free' this period.",
  },
  internal: {
    meaning:
      "A fault on our side (never with a stack trace). Safe to retry with an Idempotency-Key.",
    example: INTERNAL_MESSAGE,
  },
  stripe_error: {
    meaning: "Stripe refused or failed the call; the message is Stripe's.",
    example: "Stripe: No such price: 'price_123'",
  },
  unavailable: {
    meaning:
      "A transient condition a retry can cure: contention, a dependency down, storage that cannot write (disk full, I/O error), or the server already reading as many request bodies as its memory allows. Always with Retry-After (seconds).",
    example: "Could not create the platform; please retry.",
  },
};
