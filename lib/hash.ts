/**
 * The non-cryptographic hashes of the hot path, in one place: FNV-1a (shards, HyperLogLog slots,
 * analytics' sampling) and cyrb53 (idempotency fingerprints). Their outputs are stored or decide
 * which key a value lives under, so neither may ever change.
 */

/**
 * FNV-1a, 32 bits, over UTF-16 code units; `seed` replaces the offset basis for a second,
 * independent hash of the same text.
 *
 * @example fnv1a("user-1") % 8 // the user's shard of 8
 */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * cyrb53's mixing, kept to its two 32-bit halves: a fast, well-spread 64-bit hash (16 hex digits)
 * of a list of strings, each prefixed with its length so that no two lists hash the same text.
 */
export function hash64(parts: readonly string[]): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (const part of parts) {
    for (let i = -1; i < part.length; i++) {
      const c = i < 0 ? part.length : part.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}
