/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, spec 1.0.0, symmetric scheme):
 * the secret is `whsec_` + base64 of random bytes; each attempt carries `webhook-id` (the event id,
 * the same on every retry), `webhook-timestamp` (unix seconds of THIS attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "id.timestamp.body")>`. Founders verify
 * with any Standard Webhooks library.
 */
import { decodeBase64, encodeBase64 } from "../encoding.ts";

const PREFIX = "whsec_";
/** The spec asks for 24 to 64 bytes; 32 is HMAC-SHA256's own block of strength. */
const SECRET_BYTES = 32;
const encoder = new TextEncoder();

/** A new signing secret, `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return PREFIX + encodeBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The HMAC key of a `whsec_…` secret (the bytes its base64 encodes). */
export async function signingKeyOf(secret: string): Promise<CryptoKey> {
  const raw = decodeBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
  return await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/**
 * The `webhook-signature` value for one attempt: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`.
 * @example await signatureOf(await signingKeyOf("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
 */
export async function signatureOf(
  key: CryptoKey,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`${id}.${timestampSeconds}.${body}`),
  );
  return `v1,${encodeBase64(new Uint8Array(mac))}`;
}

/** The headers of one attempt (the body is sent exactly as signed). */
export async function webhookHeaders(
  key: CryptoKey,
  id: string,
  now: Date,
  body: string,
): Promise<Record<string, string>> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "content-type": "application/json",
    "user-agent": "dream-api-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signatureOf(key, id, timestamp, body),
  };
}
