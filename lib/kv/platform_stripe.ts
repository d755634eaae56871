/**
 * A platform's connection to its founder's Stripe account, of one of two kinds:
 * - `key`: a pasted secret or restricted key and the signing secret of the webhook endpoint sync
 *   made with it (both sealed with the platform id as context);
 * - `connect`: Stripe Connect (OAuth, Standard account): only the account id. dream-api acts with
 *   its own key and `Stripe-Account`, so no secret of the founder's is stored; events arrive at
 *   the Connect endpoint, found through the `platformByStripeAccount` index written here.
 * Both keep the account and the product/price made for each tier, so a second sync reuses them.
 */
import type { StripeConnectionView } from "../schemas/responses.ts";
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
  /** Absent on records written before Connect existed: those are `key`. */
  mode?: "key" | "connect";
  accountId: string;
  livemode: boolean;
  /** `key`: the key's last 4 characters, all that is ever shown again. */
  keyLast4?: string;
  /** `key`: the founder's key, sealed. Never present for `connect`. */
  secretKey?: Sealed;
  /** `connect`: the account's display name in Stripe, when it has one. */
  displayName?: string;
  connectedAt: string;
  /** `key`: the endpoint sync made in the founder's account. Always `null` for `connect`. */
  webhook: { id: string; url: string; secret: Sealed } | null;
  /** tier id → what sync made for it. */
  products: Record<string, SyncedTier>;
}

/** The connection's kind; records from before Connect are pasted keys. */
export function connectionMode(connection: Pick<StripeConnection, "mode">): "key" | "connect" {
  return connection.mode ?? "key";
}

/**
 * What a founder may see of a connection (`GET /dashboard/api/stripe`, the platform's `stripe`
 * field): its kind, account and name, and of a key only its last 4 characters.
 */
export function stripeConnectionView(connection: StripeConnection | null): StripeConnectionView {
  if (!connection) return { connected: false };
  const mode = connectionMode(connection);
  return {
    connected: true,
    mode,
    accountId: connection.accountId,
    ...(connection.displayName && { displayName: connection.displayName }),
    livemode: connection.livemode,
    ...(mode === "key" && connection.keyLast4 && { keyLast4: connection.keyLast4 }),
  };
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
  if (!connection.secretKey) throw new Error("a Connect connection has no secret key to open");
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
      mode: "key",
      accountId: input.accountId,
      livemode: input.livemode,
      keyLast4: input.secretKey.slice(-4),
      secretKey: sealed,
      connectedAt: input.now.toISOString(),
      webhook: sameAccount ? entry.value!.webhook : null,
      products: sameAccount ? entry.value!.products : {},
    };
    const op = kv.atomic().check(entry).set(key, connection);
    // A Connect connection replaced by a key: its account no longer leads here.
    if (entry.value && connectionMode(entry.value) === "connect") {
      op.delete(keys.platformByStripeAccount(entry.value.accountId));
    }
    if ((await op.commit()).ok) return connection;
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

/** Why a Connect connection was not stored. */
export type SaveConnectRefusal = { ok: false; reason: "taken"; platformId: string };

/**
 * Stores a Connect connection (no secret) and its `platformByStripeAccount` index in one commit.
 * The index is unique: an account another platform connected is refused (`taken`), never moved.
 * The same account again keeps the products; a pasted key's record (and its sealed key) is
 * replaced; another account, connected before, loses its index in the same commit.
 */
export async function saveStripeConnect(
  kv: Deno.Kv,
  input: {
    platformId: string;
    accountId: string;
    livemode: boolean;
    displayName?: string;
    now: Date;
  },
): Promise<
  { ok: true; connection: StripeConnection; before: StripeConnection | null } | SaveConnectRefusal
> {
  const key = keys.platformStripe(input.platformId);
  const indexKey = keys.platformByStripeAccount(input.accountId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const [entry, index] = await kv.getMany<[StripeConnection, string]>([key, indexKey]);
    if (index.value !== null && index.value !== input.platformId) {
      return { ok: false, reason: "taken", platformId: index.value };
    }
    const before = entry.value;
    const sameAccount = before?.accountId === input.accountId &&
      before.livemode === input.livemode;
    const connection: StripeConnection = {
      platformId: input.platformId,
      mode: "connect",
      accountId: input.accountId,
      livemode: input.livemode,
      ...(input.displayName && { displayName: input.displayName }),
      connectedAt: input.now.toISOString(),
      webhook: null,
      products: sameAccount ? before!.products : {},
    };
    const op = kv.atomic().check(entry).check(index).set(key, connection).set(
      indexKey,
      input.platformId,
    );
    if (before && connectionMode(before) === "connect" && before.accountId !== input.accountId) {
      op.delete(keys.platformByStripeAccount(before.accountId));
    }
    if ((await op.commit()).ok) return { ok: true, connection, before };
  }
  throw new ConflictError("the Stripe connection changed while saving; try again");
}

/** The platform connected to a Stripe account through Connect, or `null`. */
export async function platformOfStripeAccount(
  kv: Deno.Kv,
  accountId: string,
): Promise<string | null> {
  return (await kv.get<string>(keys.platformByStripeAccount(accountId))).value;
}

/**
 * Forgets the platform's connection (its sealed secrets with it) and its account index, in one
 * commit, if it is still `expected` (same account): the disconnect of either kind. Returns the
 * connection removed, or `null` when there was none (or another one replaced it meanwhile).
 */
export async function deleteStripeConnection(
  kv: Deno.Kv,
  platformId: string,
  expected?: { accountId: string },
): Promise<StripeConnection | null> {
  const key = keys.platformStripe(platformId);
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await kv.get<StripeConnection>(key);
    if (!entry.value) return null;
    if (expected && entry.value.accountId !== expected.accountId) return null;
    const op = kv.atomic().check(entry).delete(key);
    if (connectionMode(entry.value) === "connect") {
      const indexKey = keys.platformByStripeAccount(entry.value.accountId);
      const index = await kv.get<string>(indexKey);
      op.check(index);
      if (index.value === platformId) op.delete(indexKey);
    }
    if ((await op.commit()).ok) return entry.value;
  }
  throw new ConflictError("the Stripe connection changed while removing it; try again");
}
