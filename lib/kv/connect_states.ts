/**
 * The `state` of a Stripe Connect OAuth attempt: the CSRF defence of the flow (RFC 6749 §10.12).
 * A random value bound to the founder who started the attempt, usable once, for 10 minutes. The
 * record is deleted by the commit that accepts it, so two callbacks with one state cannot both pass.
 */
import { encodeBase64Url } from "../encoding.ts";
import { keys } from "./keys.ts";

/** How long a founder has between "Connect with Stripe" and coming back from Stripe. */
export const CONNECT_STATE_TTL_MS = 10 * 60 * 1000;

/** One OAuth attempt, stored under its state. */
export interface ConnectState {
  /** The founder (session user id) who started it: only their callback may use it. */
  userId: string;
  platformId: string;
  /** ISO time after which the state is refused, whether or not KV has removed it yet. */
  expiresAt: string;
}

/** Why a callback's state was refused (all are a 400 with nothing stored). */
export type ConnectStateRefusal = "missing" | "unknown" | "expired" | "other_founder";

/**
 * Makes and stores a new state for `userId`'s platform; the value to send to Stripe.
 * 32 random bytes: unguessable, and short enough for a URL.
 */
export async function createConnectState(
  kv: Deno.Kv,
  input: { userId: string; platformId: string; now: Date },
): Promise<string> {
  const state = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const record: ConnectState = {
    userId: input.userId,
    platformId: input.platformId,
    expiresAt: new Date(input.now.getTime() + CONNECT_STATE_TTL_MS).toISOString(),
  };
  // `expireIn` lets KV drop abandoned attempts; `expiresAt` is what decides (KV may keep a
  // record a while past its expiry).
  await kv.set(keys.connectState(state), record, { expireIn: CONNECT_STATE_TTL_MS });
  return state;
}

/**
 * Accepts `state` for `userId` once: deletes it in the same commit that checks it is unchanged,
 * so of two concurrent callbacks exactly one gets `ok`. A state of another founder is refused and
 * left in place (it is not theirs to spend); an expired one is refused and removed.
 */
export async function consumeConnectState(
  kv: Deno.Kv,
  input: { state: string | undefined; userId: string; now: Date },
): Promise<{ ok: true; record: ConnectState } | { ok: false; reason: ConnectStateRefusal }> {
  // Ours are 43 characters of base64url; anything else cannot be one (and stays out of KV keys).
  if (!input.state || !/^[A-Za-z0-9_-]{43}$/.test(input.state)) {
    return { ok: false, reason: input.state ? "unknown" : "missing" };
  }
  const key = keys.connectState(input.state);
  for (let attempt = 0; attempt < 3; attempt++) {
    const entry = await kv.get<ConnectState>(key);
    if (!entry.value) return { ok: false, reason: "unknown" };
    if (entry.value.userId !== input.userId) return { ok: false, reason: "other_founder" };
    const committed = await kv.atomic().check(entry).delete(key).commit();
    if (!committed.ok) continue; // someone else touched it: read again (usually: now gone)
    if (Date.parse(entry.value.expiresAt) <= input.now.getTime()) {
      return { ok: false, reason: "expired" };
    }
    return { ok: true, record: entry.value };
  }
  return { ok: false, reason: "unknown" };
}
