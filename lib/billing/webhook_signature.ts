/**
 * Verifying Stripe webhook deliveries, for every webhook URL of dream-api, in the order that keeps
 * a stranger's body cheap: the `Stripe-Signature` header's form and timestamp first (no body work),
 * then the HMAC over the raw bytes, and only then `JSON.parse`.
 *
 * Stripe's scheme (https://docs.stripe.com/webhooks#verify-manually): the header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=…][,v0=…]`; several `v1`
 * appear while a secret is being rolled, and `v0` is a test-mode scheme we ignore. Stripe's SDK
 * refuses only timestamps older than the tolerance; we refuse both sides, so a signature minted
 * for a future time cannot be held back and replayed later.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type Stripe from "stripe";
import { ApiError } from "../errors.ts";

/** Largest distance between the signed timestamp and our clock, either way, in seconds. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A real header is ~150 characters (two `v1` while a secret rolls, one `v0`); more is not Stripe. */
const MAX_HEADER_LENGTH = 1024;
/** Longest event id or type we accept: Stripe's are far shorter, and both end up in KV keys. */
const MAX_EVENT_FIELD = 255;

/** A `Stripe-Signature` header whose form and timestamp are acceptable. */
export interface SignatureHeader {
  timestamp: number;
  /** The `v1` signatures, 32 bytes each. */
  signatures: Uint8Array[];
}

/**
 * Reads a `Stripe-Signature` header without touching the body: 400 `invalid_request` when it is
 * missing, malformed, or its timestamp is more than 300 s away from `nowSeconds` either way.
 * `nowSeconds` is the wall clock, not the app's `now()`: Stripe signs with real time.
 * @example const header = parseSignatureHeader(c.req.header("stripe-signature"));
 */
export function parseSignatureHeader(
  header: string | undefined,
  nowSeconds: number = Date.now() / 1000,
): SignatureHeader {
  if (!header) throw new ApiError("invalid_request", "Missing Stripe-Signature header.");
  if (header.length > MAX_HEADER_LENGTH) {
    throw new ApiError("invalid_request", "The Stripe-Signature header is too long.");
  }
  let timestamp: number | null = null;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === "v1" && /^[0-9a-fA-F]{64}$/.test(value)) signatures.push(fromHex(value));
  }
  if (timestamp === null || signatures.length === 0) {
    throw new ApiError(
      "invalid_request",
      "The Stripe-Signature header is not of the form t=<timestamp>,v1=<signature>.",
    );
  }
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new ApiError(
      "invalid_request",
      `The Stripe-Signature timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} s from now.`,
    );
  }
  return { timestamp, signatures };
}

/**
 * Whether one of the header's `v1` signatures is the HMAC-SHA256 of `<t>.<body>` under `secret`
 * (compared in constant time). `body` is the raw bytes as received.
 */
export function hasValidSignature(
  body: Uint8Array,
  header: SignatureHeader,
  secret: string,
): boolean {
  // node:crypto's HMAC takes the prefix and the body in two updates: WebCrypto would need them
  // copied into one buffer, a second copy of every body in flight.
  const expected = createHmac("sha256", secret).update(`${header.timestamp}.`).update(body)
    .digest();
  let found = false;
  for (const candidate of header.signatures) {
    found = (candidate.byteLength === expected.byteLength &&
      timingSafeEqual(expected, candidate)) || found;
  }
  return found;
}

/**
 * The event in verified bytes: 400 `invalid_request` when they are not UTF-8 JSON, or not an
 * event (an object with a string `id` and `type`, a numeric `created`, an object `data`).
 * `data.object` is not checked here: a signed event whose object we cannot use is acknowledged by
 * the handlers, not refused.
 */
export function parseVerifiedEvent(body: Uint8Array): Stripe.Event {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new ApiError("invalid_request", "The body is not UTF-8 JSON.");
  }
  return stripeEventOf(value);
}

/** `value` as a Stripe event, after the checks of `parseVerifiedEvent`; 400 otherwise. */
export function stripeEventOf(value: unknown): Stripe.Event {
  const notAnEvent = (why: string) =>
    new ApiError("invalid_request", `The payload is not a Stripe event: ${why}.`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw notAnEvent("not a JSON object");
  }
  const { id, type, created, data } = value as Record<string, unknown>;
  for (const [name, field] of [["id", id], ["type", type]] as const) {
    if (typeof field !== "string" || field.length === 0 || field.length > MAX_EVENT_FIELD) {
      throw notAnEvent(`"${name}" must be a string of 1 to ${MAX_EVENT_FIELD} characters`);
    }
  }
  if (typeof created !== "number" || !Number.isSafeInteger(created) || created < 0) {
    throw notAnEvent(`"created" must be a Unix timestamp`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw notAnEvent(`"data" must be an object`);
  }
  return value as Stripe.Event;
}

/**
 * The event in `body` when `signature` is a valid `Stripe-Signature` for it under `secret`, else
 * 400 `invalid_request`. The header is checked before the body is hashed, the body is hashed
 * before it is parsed. Pass an already parsed header to check it before reading the body.
 * @example const event = verifyStripeEvent(bytes, parseSignatureHeader(header), secret)
 */
export function verifyStripeEvent(
  body: Uint8Array,
  signature: SignatureHeader | string | undefined,
  secret: string,
): Stripe.Event {
  const header = typeof signature === "object" ? signature : parseSignatureHeader(signature);
  if (!hasValidSignature(body, header, secret)) {
    throw new ApiError("invalid_request", "Invalid Stripe-Signature for this payload.");
  }
  return parseVerifiedEvent(body);
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
