/**
 * Stripe Connect (OAuth for Standard accounts): a founder approves dream-api on Stripe's own page
 * and we act in their account with our key and `Stripe-Account` (https://docs.stripe.com/connect/oauth-reference).
 *
 * 1. `startConnect`: a single-use, 10-minute `state` bound to the founder, and the authorize URL.
 * 2. `completeConnect` (the callback): the state is spent first; then Stripe's answer. A code is
 *    exchanged at `/oauth/token` with dream-api's secret key; only `stripe_user_id` is kept (no
 *    access or refresh token: with Standard accounts our key plus `Stripe-Account` is enough).
 *    The account is indexed to the platform (one platform per account), a pasted key's webhook
 *    endpoint is deleted, and the tiers are synced as with a key.
 * 3. `disconnectStripe` (either kind) and `disconnectDeauthorized` (Stripe's
 *    `account.application.deauthorized`) forget the connection and the tiers' prices.
 */
import type Stripe from "stripe";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { platformIdOf } from "../founders/me.ts";
import { requirePlatformId } from "../founders/platform.ts";
import { consumeConnectState, createConnectState } from "../kv/connect_states.ts";
import {
  connectionMode,
  deleteStripeConnection,
  getStripeConnection,
  saveStripeConnect,
  type StripeConnection,
  stripeConnectionView,
} from "../kv/platform_stripe.ts";
import { isEventProcessed, markEventProcessed } from "../kv/stripe_events.ts";
import type { StripeConnectionView } from "../schemas/responses.ts";
import {
  deleteKeyWebhook,
  type FounderStripeDeps,
  setTierPrices,
  syncFounderStripe,
} from "./founder_stripe.ts";

/** Where Stripe sends the founder back: `PUBLIC_URL` + this path (registered in Stripe's dashboard). */
export const CONNECT_CALLBACK_PATH = "/dashboard/stripe/callback";

/** How long we wait for Stripe's OAuth endpoints before calling them unavailable. */
const OAUTH_TIMEOUT_MS = 20_000;

/**
 * Whether this server offers "Connect with Stripe": a client id, the Connect webhook secret (both
 * or neither, fresh.config.ts) and dream-api's own secret key, which every Connect call uses.
 */
export function connectConfigured(config: Deps["config"]): boolean {
  const { connect, secretKey } = config.stripe;
  return !!(connect.clientId && connect.webhookSecret && secretKey);
}

/**
 * The authorize URL for the founder's platform, with a fresh state bound to them (the CSRF defence
 * of the flow). 404 `not_found` when Connect is not configured or the founder has no platform.
 * @example return c.redirect(await startConnect(deps, founder.userId), 302);
 */
export async function startConnect(deps: FounderStripeDeps, userId: string): Promise<string> {
  const { config } = deps;
  if (!connectConfigured(config)) {
    throw new ApiError(
      "not_found",
      "Stripe Connect is not configured on this server; connect with a restricted key instead.",
    );
  }
  const platformId = await requirePlatformId(deps.kv, userId);
  const state = await createConnectState(deps.kv, { userId, platformId, now: deps.now() });
  const url = new URL(`${config.stripe.connect.url}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.stripe.connect.clientId!,
    scope: "read_write",
    redirect_uri: `${config.publicUrl}${CONNECT_CALLBACK_PATH}`,
    state,
  }).toString();
  return url.toString();
}

/** The callback's query, as Stripe sends it (each field at most once, bounded). */
export const ConnectCallbackQuery = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
});
export type ConnectCallbackQuery = z.infer<typeof ConnectCallbackQuery>;

/** How a callback ended; every refusal stored nothing. */
export type ConnectOutcome =
  | { ok: true; connection: StripeConnection; sync: { ok: true } | { ok: false; message: string } }
  | {
    ok: false;
    /**
     * `invalid_state`: forged, reused, expired or another founder's state (400);
     * `denied`: the founder pressed Deny; `refused`: Stripe would not connect the account (e.g. one
     * another platform controls) or refused the code; `taken`: another platform of dream-api has
     * this account; `unavailable`: Stripe could not be reached (503).
     */
    reason: "invalid_state" | "denied" | "refused" | "taken" | "unavailable";
    message: string;
  };

/**
 * Finishes the flow for the signed-in founder `userId`. The state is checked and spent before
 * anything else (so a forged or replayed callback stores nothing and calls nobody).
 */
export async function completeConnect(
  deps: FounderStripeDeps,
  userId: string,
  query: ConnectCallbackQuery,
): Promise<ConnectOutcome> {
  const spent = await consumeConnectState(deps.kv, { state: query.state, userId, now: deps.now() });
  const platformId = await platformIdOf(deps.kv, userId);
  if (!spent.ok || !platformId || spent.record.platformId !== platformId) {
    deps.log.log("info", "a Stripe Connect callback with a state we cannot accept", {
      reason: spent.ok ? "other_platform" : spent.reason,
    });
    return {
      ok: false,
      reason: "invalid_state",
      message: spent.ok || spent.reason !== "expired"
        ? "This link back from Stripe is not valid (it was used already, or was not made for " +
          "you). Nothing was connected; start again from Settings."
        : "This link back from Stripe has expired (you have 10 minutes). Nothing was " +
          "connected; start again from Settings.",
    };
  }
  if (query.error) {
    if (query.error === "access_denied") {
      return {
        ok: false,
        reason: "denied",
        message: "You declined the connection in Stripe, so nothing was connected.",
      };
    }
    return {
      ok: false,
      reason: "refused",
      message: `Stripe did not connect the account: ${query.error_description ?? query.error}`,
    };
  }
  if (!query.code) {
    return { ok: false, reason: "refused", message: "Stripe sent no authorization code back." };
  }

  const token = await exchangeCode(deps, query.code);
  if (!token.ok) return token;
  const displayName = await displayNameOf(deps, token.accountId);
  const saved = await saveStripeConnect(deps.kv, {
    platformId,
    accountId: token.accountId,
    livemode: token.livemode,
    displayName,
    now: deps.now(),
  });
  if (!saved.ok) {
    // Not deauthorized: the grant is the other platform's too (Stripe has one per account).
    deps.log.log("warn", "a founder connected a Stripe account another platform has", {
      platformId,
      accountId: token.accountId,
    });
    return {
      ok: false,
      reason: "taken",
      message: `The Stripe account ${token.accountId} is already connected to another ` +
        "dream-api platform. Each Stripe account serves one platform: sign in to that one, " +
        "disconnect it there first, or connect another account.",
    };
  }
  const before = saved.before;
  if (before && connectionMode(before) === "key") await deleteKeyWebhook(deps, before);
  if (before && (before.accountId !== token.accountId || before.livemode !== token.livemode)) {
    await setTierPrices(deps, platformId, () => undefined);
  }
  deps.log.log("info", "a platform connected its Stripe account with Connect", {
    platformId,
    accountId: token.accountId,
    switchedFromKey: before !== null && connectionMode(before) === "key",
  });
  try {
    await syncFounderStripe(deps, userId);
    return { ok: true, connection: saved.connection, sync: { ok: true } };
  } catch (error) {
    // Connected all the same: the settings page offers "Sync tiers to Stripe" again.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: true, connection: saved.connection, sync: { ok: false, message } };
  }
}

const TokenAnswer = z.object({
  stripe_user_id: z.string().regex(/^acct_\w{1,64}$/),
  livemode: z.boolean().default(false),
});

const OAuthErrorAnswer = z.object({
  error: z.string().max(256),
  error_description: z.string().max(2048).optional(),
});

/** `POST /oauth/token` with dream-api's key: the connected account, Stripe's refusal, or unavailable. */
async function exchangeCode(
  deps: FounderStripeDeps,
  code: string,
): Promise<
  | { ok: true; accountId: string; livemode: boolean }
  | { ok: false; reason: "refused" | "unavailable"; message: string }
> {
  const answer = await callOAuth(deps, "token", { grant_type: "authorization_code", code });
  if (!answer.ok) return { ok: false, reason: "unavailable", message: answer.message };
  if (answer.status >= 400) {
    const refusal = OAuthErrorAnswer.safeParse(answer.body);
    return {
      ok: false,
      reason: "refused",
      message: `Stripe refused to connect the account: ${
        refusal.success ? refusal.data.error_description ?? refusal.data.error : "no reason given"
      }`,
    };
  }
  const token = TokenAnswer.safeParse(answer.body);
  if (!token.success) {
    return {
      ok: false,
      reason: "unavailable",
      message: "Stripe's answer named no connected account; please try again.",
    };
  }
  return { ok: true, accountId: token.data.stripe_user_id, livemode: token.data.livemode };
}

/**
 * One call to Stripe's OAuth endpoints (`{STRIPE_CONNECT_URL}/oauth/…`), form-encoded and
 * authenticated with dream-api's secret key, as Stripe's SDKs send it. Network failures, 5xx and
 * 429 are "unavailable" (a retry can cure them); any other answer is returned with its JSON body.
 */
async function callOAuth(
  deps: FounderStripeDeps,
  path: "token" | "deauthorize",
  form: Record<string, string>,
): Promise<{ ok: true; status: number; body: unknown } | { ok: false; message: string }> {
  const url = `${deps.config.stripe.connect.url}/oauth/${path}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${deps.config.stripe.secretKey}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS),
    });
    // Inside the try: a connection that breaks mid-answer fails here, not at `fetch`.
    text = await res.text();
  } catch (error) {
    deps.log.log("warn", "Stripe's OAuth endpoint did not answer", { path, error: String(error) });
    return { ok: false, message: "Stripe could not be reached; please try again in a moment." };
  }
  if (res.status >= 500 || res.status === 429) {
    deps.log.log("warn", "Stripe's OAuth endpoint failed", { path, status: res.status });
    return { ok: false, message: `Stripe answered ${res.status}; please try again in a moment.` };
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the schema checks of the caller turn it into a clear refusal.
  }
  return { ok: true, status: res.status, body };
}

/** The connected account's name in Stripe (dashboard display name, else business name). */
async function displayNameOf(
  deps: FounderStripeDeps,
  accountId: string,
): Promise<string | undefined> {
  try {
    const stripe = deps.stripeFor(deps.config.stripe.secretKey!, { stripeAccount: accountId });
    const account: Stripe.Account = await stripe.accounts.retrieveCurrent();
    const name = account.settings?.dashboard?.display_name ?? account.business_profile?.name;
    return name ? name.slice(0, 200) : undefined;
  } catch (error) {
    // Only a label: connecting goes on without it.
    deps.log.log("info", "could not read the connected account's name", {
      accountId,
      error: String((error as { message?: unknown })?.message ?? error),
    });
    return undefined;
  }
}

/**
 * `POST /dashboard/api/stripe/disconnect`: for Connect, revokes dream-api's access at Stripe
 * (`/oauth/deauthorize`) first; for a pasted key, deletes the webhook endpoint it made (when
 * Stripe still lets it). Then the connection (and any sealed key) is deleted and the tiers lose
 * their prices. 409 `stripe_not_connected` when there is nothing to disconnect; 503 `unavailable`
 * (nothing changed) when Stripe cannot be reached to revoke the grant.
 */
export async function disconnectStripe(
  deps: FounderStripeDeps,
  userId: string,
): Promise<StripeConnectionView> {
  const platformId = await requirePlatformId(deps.kv, userId);
  const connection = await getStripeConnection(deps.kv, platformId);
  if (!connection) {
    throw new ApiError("stripe_not_connected", "This platform has no Stripe connection.");
  }
  if (connectionMode(connection) === "connect") {
    await deauthorize(deps, connection);
  } else {
    await deleteKeyWebhook(deps, connection);
  }
  await forgetConnection(deps, connection);
  deps.log.log("info", "a platform disconnected its Stripe account", {
    platformId,
    mode: connectionMode(connection),
  });
  return stripeConnectionView(null);
}

async function deauthorize(deps: FounderStripeDeps, connection: StripeConnection): Promise<void> {
  const { clientId } = deps.config.stripe.connect;
  if (!clientId || !deps.config.stripe.secretKey) {
    throw new ApiError(
      "unavailable",
      "This server has no Stripe Connect configuration to revoke the connection with.",
    );
  }
  const answer = await callOAuth(deps, "deauthorize", {
    client_id: clientId,
    stripe_user_id: connection.accountId,
  });
  if (!answer.ok) throw new ApiError("unavailable", answer.message);
  if (answer.status >= 400) {
    // Already revoked in Stripe (the founder did it there): our side still has to forget it.
    const refusal = OAuthErrorAnswer.safeParse(answer.body);
    deps.log.log("info", "Stripe refused the deauthorization; disconnecting anyway", {
      platformId: connection.platformId,
      status: answer.status,
      error: refusal.success ? refusal.data.error_description ?? refusal.data.error : null,
    });
  }
}

/** The connection, its account index and the tiers' prices: gone, in that order. */
async function forgetConnection(
  deps: FounderStripeDeps,
  connection: StripeConnection,
): Promise<boolean> {
  const removed = await deleteStripeConnection(deps.kv, connection.platformId, {
    accountId: connection.accountId,
  });
  if (!removed) return false;
  await setTierPrices(deps, connection.platformId, () => undefined);
  return true;
}

/**
 * `account.application.deauthorized` at the Connect endpoint: the founder revoked dream-api in
 * Stripe. The platform is disconnected as by the button (nothing to revoke any more). Events for
 * another application (Stripe names it in `data.object`) are ignored; a redelivery is a duplicate.
 */
export async function disconnectDeauthorized(
  deps: FounderStripeDeps,
  connection: StripeConnection,
  event: Stripe.Event,
): Promise<"disconnected" | "duplicate" | "ignored"> {
  const platformId = connection.platformId;
  if (await isEventProcessed(deps.kv, platformId, event.id)) return "duplicate";
  const application = (event.data?.object as { id?: unknown } | undefined)?.id;
  const ours = deps.config.stripe.connect.clientId;
  if (typeof application === "string" && ours && application !== ours) {
    await markEventProcessed(deps.kv, platformId, event.id, deps.now());
    return "ignored";
  }
  await forgetConnection(deps, connection);
  await markEventProcessed(deps.kv, platformId, event.id, deps.now());
  deps.log.log("info", "a founder revoked dream-api in Stripe; platform disconnected", {
    platformId,
    accountId: connection.accountId,
    eventId: event.id,
  });
  return "disconnected";
}
