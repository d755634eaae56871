/**
 * The one place Stripe clients are made: dream-api's own and every founder's. All use the fetch
 * HTTP client and, when `STRIPE_API_URL` is set, that base URL (the local Stripe-compatible server
 * in development and tests). The real `stripe` SDK always does the talking.
 */
import Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { connectionMode, openSecretKey, type StripeConnection } from "../kv/platform_stripe.ts";

/**
 * A Stripe client for a secret key; with `stripeAccount`, every call it makes carries
 * `Stripe-Account` (it acts in that connected account).
 */
export type StripeFactory = (secretKey: string, options?: { stripeAccount?: string }) => Stripe;

/** Makes Stripe clients for any secret key, against `apiUrl` when given. */
export function createStripeFactory(options: { apiUrl?: string } = {}): StripeFactory {
  const base = options.apiUrl ? new URL(options.apiUrl) : undefined;
  const httpClient = Stripe.createFetchHttpClient();
  return (secretKey, account) =>
    new Stripe(secretKey, {
      httpClient,
      maxNetworkRetries: 1,
      timeout: 20_000,
      ...(account?.stripeAccount && { stripeAccount: account.stripeAccount }),
      ...(base && {
        host: base.hostname,
        port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
        protocol: base.protocol.replace(":", "") as "http" | "https",
      }),
    });
}

/**
 * THE Stripe client for a platform, whatever its kind of connection: for Connect, dream-api's own
 * key acting in the founder's account (`Stripe-Account: acct_…`); for a pasted key, that key.
 * Every call in a founder's account (sync, checkout, portal, webhook re-fetches) gets its client
 * here, so what is made there is the same either way.
 * @example const stripe = await stripeForPlatform(deps, connection);
 */
export async function stripeForPlatform(
  deps: Pick<Deps, "stripeFor" | "secrets" | "config">,
  connection: StripeConnection,
): Promise<Stripe> {
  if (connectionMode(connection) === "connect") {
    const ownKey = deps.config.stripe.secretKey;
    if (!ownKey) {
      throw new ApiError(
        "unavailable",
        "This server has no STRIPE_SECRET_KEY, which Stripe Connect acts with.",
      );
    }
    return deps.stripeFor(ownKey, { stripeAccount: connection.accountId });
  }
  return deps.stripeFor(await openSecretKey(deps.secrets, connection));
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
