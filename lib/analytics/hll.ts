/**
 * HyperLogLog (Flajolet et al. 2007, with the small-range correction of linear counting) for the
 * daily distinct active end-users: 256 registers per platform and UTC day, each a `Deno.KvU64`
 * raised with `max` inside the meter's commits, so counting a user needs no read and no check.
 */
import { fnv1a } from "../hash.ts";

/** Index bits: 2^8 = 256 registers. */
export const HLL_BITS = 8;
export const HLL_REGISTERS = 1 << HLL_BITS;
/** The relative standard error of an estimate, 1.04/√m (6.5%); small counts are near exact. */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

/** The register and rank (position of the first 1 bit, 1…25) an end-user id raises. */
export function hllSlot(userId: string): { register: number; rank: number } {
  const h = mix32(fnv1a(userId));
  const rest = (h << HLL_BITS) >>> 0;
  return {
    register: h >>> (32 - HLL_BITS),
    rank: Math.min(Math.clz32(rest) + 1, 32 - HLL_BITS + 1),
  };
}

/** The cardinality estimate of a day's registers (missing registers are 0). */
export function hllEstimate(registers: ArrayLike<number>): number {
  const m = HLL_REGISTERS;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    const r = registers[i] ?? 0;
    sum += 2 ** -r;
    if (r === 0) zeros++;
  }
  if (zeros === m) return 0;
  const alpha = 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  // Linear counting is the better estimate while many registers are still empty.
  if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(raw);
}

/** MurmurHash3's finalizer: spreads FNV's weak low bits over all 32. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
