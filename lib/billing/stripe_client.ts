/**
 * The one place Stripe clients are made: dream-api's own and every founder's. All use the fetch
 * HTTP client and, when `STRIPE_API_URL` is set, that base URL (the local Stripe-compatible server
 * in development and tests). The real `stripe` SDK always does the talking.
 */
import Stripe from "stripe";

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
