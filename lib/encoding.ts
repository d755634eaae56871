/** Small byte ↔ text helpers shared by key generation, ids, cursors and encryption. */
import { base64url } from "jose";

/**
 * Bytes → base64url without padding (API keys, report cursors). jose's, the one base64url of the
 * codebase, which also reads the JWTs: one implementation to trust.
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** base64url (unpadded or padded) → bytes; throws on malformed input. */
export function decodeBase64Url(text: string): Uint8Array {
  return base64url.decode(text);
}

/** Bytes → standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Standard base64 → bytes; throws on malformed input. */
export function decodeBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** A random id with a readable prefix, `plt_` + 16 of [0-9a-z] (not a secret: ids are shown). */
export function randomId(prefix: string, length = 16): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return `${prefix}_${Array.from(bytes, (b) => ID_ALPHABET[b % 36]).join("")}`;
}
