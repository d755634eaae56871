/**
 * A platform's connection to its founder's Stripe account: the secret key and the webhook signing
 * secret (both sealed with the platform id as context), the account, the webhook endpoint, and the
 * product/price made for each tier so a second sync reuses them.
 */
import type { Sealed, SecretBox } from "../sealed.ts";
import { keys } from "./keys.ts";
import { ConflictError } from "./errors.ts";

/** What sync made in the founder's Stripe for one tier. */
export interface SyncedTier {
  productId: string;
  priceId: string;
  /** In the currency's minor unit (cents), as sent to Stripe. */
  unitAmount: number;
  currency: string;
}

export interface StripeConnection {
  platformId: string;
  accountId: string;
  livemode: boolean;
  /** The key's last 4 characters: all that is ever shown again. */
  keyLast4: string;
  secretKey: Sealed;
  connectedAt: string;
  webhook: { id: string; url: string; secret: Sealed } | null;
  /** tier id → what sync made for it. */
  products: Record<string, SyncedTier>;
}

/** The platform's connection, or `null` when none. Secrets stay sealed. */
export async function getStripeConnection(
  kv: Deno.Kv,
  platformId: string,
): Promise<StripeConnection | null> {
  return (await kv.get<StripeConnection>(keys.platformStripe(platformId))).value;
}

/** The founder's Stripe secret key in plaintext (for building a client; never log or return it). */
export async function openSecretKey(
  secrets: SecretBox,
  connection: StripeConnection,
): Promise<string> {
  return await secrets.open(connection.secretKey, connection.platformId);
}

/** The platform's webhook signing secret in plaintext, or `null` before the first sync. */
export async function openWebhookSecret(
  secrets: SecretBox,
  connection: StripeConnection,
): Promise<string | null> {
  if (!connection.webhook) return null;
  return await secrets.open(connection.webhook.secret, connection.platformId);
}

/**
 * Stores a (new) key for a platform. Connecting the same account again keeps the webhook endpoint
 * and the products; another account starts over (the old ids mean nothing there).
 */
export async function saveStripeKey(
  kv: Deno.Kv,
  secrets: SecretBox,
  input: { platformId: string; secretKey: string; accountId: string; livemode: boolean; now: Date },
): Promise<StripeConnection> {
  const key = keys.platformStripe(input.platformId);
  const sealed = await secrets.seal(input.secretKey, input.platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<StripeConnection>(key);
    const sameAccount = entry.value?.accountId === input.accountId &&
      entry.value.livemode === input.livemode;
    const connection: StripeConnection = {
      platformId: input.platformId,
      accountId: input.accountId,
      livemode: input.livemode,
      keyLast4: input.secretKey.slice(-4),
      secretKey: sealed,
      connectedAt: input.now.toISOString(),
      webhook: sameAccount ? entry.value!.webhook : null,
      products: sameAccount ? entry.value!.products : {},
    };
    const result = await kv.atomic().check(entry).set(key, connection).commit();
    if (result.ok) return connection;
  }
  throw new ConflictError("the Stripe connection changed while saving; try again");
}

/**
 * Applies `change` to the stored connection (read → change → compare-and-set, retried).
 * Returns `null` when the platform has no connection.
 */
export async function updateStripeConnection(
  kv: Deno.Kv,
  platformId: string,
  change: (connection: StripeConnection) => StripeConnection,
): Promise<StripeConnection | null> {
  const key = keys.platformStripe(platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<StripeConnection>(key);
    if (!entry.value) return null;
    const next = change(entry.value);
    const result = await kv.atomic().check(entry).set(key, next).commit();
    if (result.ok) return next;
  }
  throw new ConflictError("the Stripe connection changed while saving; try again");
}
