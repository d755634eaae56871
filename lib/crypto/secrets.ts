/**
 * The envelope for founders' Stripe secrets at rest: AES-256-GCM through WebCrypto, a fresh
 * 12-byte IV per record, and the owning platform id as additional authenticated data, so a
 * ciphertext copied into another platform's record fails to decrypt.
 */
import { dirname } from "node:path";
import { decodeBase64, encodeBase64 } from "../encoding.ts";
import type { SecretBox } from "../sealed.ts";

export type { Sealed, SecretBox } from "../sealed.ts";

/** A sealed record that does not open: tampered, copied to another context, or another master key. */
export class DecryptError extends Error {
  override name = "DecryptError";
}

const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A box over the master key (base64 of 32 bytes, `ENCRYPTION_KEY`). Throws on a malformed key.
 * @example const box = await createSecretBox(generateEncryptionKey()); await box.open(await box.seal("sk_test_…", "plt_1"), "plt_1")
 */
export async function createSecretBox(masterKeyBase64: string): Promise<SecretBox> {
  const raw = parseMasterKey(masterKeyBase64);
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
  return {
    async seal(plaintext, context) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ct = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
        key,
        encoder.encode(plaintext),
      );
      return { v: 1, iv: encodeBase64(iv), ct: encodeBase64(new Uint8Array(ct)) };
    },
    async open(sealed, context) {
      try {
        const pt = await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: decodeBase64(sealed.iv) as Uint8Array<ArrayBuffer>,
            additionalData: encoder.encode(context),
          },
          key,
          decodeBase64(sealed.ct) as Uint8Array<ArrayBuffer>,
        );
        return decoder.decode(pt);
      } catch {
        throw new DecryptError("a sealed secret failed to decrypt (wrong context or key)");
      }
    },
  };
}

/** A new master key: base64 of 32 random bytes. */
export function generateEncryptionKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** Validates `ENCRYPTION_KEY`; the message names the variable and never echoes the value. */
export function parseMasterKey(base64: string): Uint8Array<ArrayBuffer> {
  let raw: Uint8Array;
  try {
    raw = decodeBase64(base64.trim());
  } catch {
    throw new Error("ENCRYPTION_KEY is not valid base64 (expected base64 of 32 random bytes)");
  }
  if (raw.length !== 32) {
    throw new Error(`ENCRYPTION_KEY must be base64 of 32 bytes, got ${raw.length} bytes`);
  }
  return raw as Uint8Array<ArrayBuffer>;
}

/**
 * The development master key kept at `path`, generated on first use (mode 0600) so encrypted
 * records survive restarts. Production passes `ENCRYPTION_KEY` instead.
 */
export async function loadOrCreateDevEncryptionKey(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = generateEncryptionKey();
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, `${key}\n`, { mode: 0o600 });
  return key;
}
