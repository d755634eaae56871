/**
 * The stored form of usage counters (`keys.usage`). Written by the meter only, as `Deno.KvU64`:
 * KV encodes and decodes those natively, where a number goes through V8 serialization on every
 * write and read (a period's scan of 100,000 counters takes about a fifth less). Files written
 * before store numbers; every reader takes both.
 */

/** A counter's value as KV holds it. */
export type StoredCount = Deno.KvU64 | number;

/** The value to store for `count`. */
export function toStoredCount(count: number): Deno.KvU64 {
  return new Deno.KvU64(BigInt(count));
}

/** The count a stored value holds; 0 for none. */
export function countOf(value: StoredCount | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value.value);
}
