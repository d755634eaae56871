/**
 * The shape of a sealed secret and of the box that seals it. Types only, at the bottom: KV stores
 * sealed values and takes a box to open them; lib/crypto/secrets.ts implements the box.
 */

/** An encrypted value as stored in KV. `v` names the scheme so the key or cipher can change later. */
export interface Sealed {
  v: 1;
  /** base64 of the 12-byte IV. */
  iv: string;
  /** base64 of ciphertext ‖ 16-byte GCM tag. */
  ct: string;
}

/** Encrypts and decrypts small secrets bound to a context (the platform id). */
export interface SecretBox {
  seal(plaintext: string, context: string): Promise<Sealed>;
  /** Throws `DecryptError` when the record was tampered with, moved, or sealed under another key. */
  open(sealed: Sealed, context: string): Promise<string>;
}
