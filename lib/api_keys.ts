/**
 * API keys: generation, hashing and the non-secret display prefix. Only hashes are stored. Pure and
 * at the bottom: KV writes a platform's key records with it, auth checks callers' keys with it.
 */
import { createHash } from "node:crypto";
import { encodeBase64Url } from "./encoding.ts";

export type KeyMode = "live" | "test";

/** `dk_live_` or `dk_test_` + 32 random bytes (43 URL-safe characters). */
export const API_KEY_PATTERN = /^dk_(live|test)_[A-Za-z0-9_-]{43,}$/;

/** A new secret key. Show it once; store `hashApiKey(key)` and `keyPrefix(key)`. */
export function generateApiKey(mode: KeyMode = "live"): string {
  return `dk_${mode}_${encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** SHA-256 hex of the key: the only form a key is stored or cached in. Synchronous (hot path). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** The first characters of a key, safe to show: `dk_live_AbC1…`. */
export function keyPrefix(key: string): string {
  return `${key.slice(0, key.indexOf("_", 3) + 5)}…`;
}

/** Whether a string has the shape of one of our keys (a cheap check before any lookup). */
export function isApiKeyShaped(key: string): boolean {
  return key.length <= 200 && API_KEY_PATTERN.test(key);
}
