/**
 * The one place Stripe clients are made: dream-api's own and every founder's. All use the fetch
 * HTTP client and, when `STRIPE_API_URL` is set, that base URL (the local Stripe-compatible server
 * in development and tests). The real `stripe` SDK always does the talking.
 */
import Stripe from "stripe";
import { ApiError } from "../errors.ts";

export type StripeFactory = (secretKey: string) => Stripe;

/** Makes Stripe clients for any secret key, against `apiUrl` when given. */
export function createStripeFactory(options: { apiUrl?: string } = {}): StripeFactory {
  const base = options.apiUrl ? new URL(options.apiUrl) : undefined;
  const httpClient = Stripe.createFetchHttpClient();
  return (secretKey) =>
    new Stripe(secretKey, {
      httpClient,
      maxNetworkRetries: 1,
      timeout: 20_000,
      ...(base && {
        host: base.hostname,
        port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
        protocol: base.protocol.replace(":", "") as "http" | "https",
      }),
    });
}

/** Webhook signatures are verified with WebCrypto (async), as Deno and edge runtimes require. */
export const webhookCrypto = Stripe.createSubtleCryptoProvider();

/** Turns a Stripe SDK failure into 502 `stripe_error` carrying Stripe's message. */
export function stripeFailure(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  if (isStripeError(error)) {
    return new ApiError("stripe_error", `Stripe: ${error.message}`);
  }
  return error;
}

function isStripeError(error: unknown): error is { type: string; message: string; code?: string } {
  return typeof error === "object" && error !== null && "type" in error &&
    typeof (error as { type: unknown }).type === "string" &&
    String((error as { type: string }).type).startsWith("Stripe");
}
