/**
 * A period's end-users, sorted by count: one streaming pass over the period's usage counters and
 * the tiers recorded beside them, kept in memory for a short while.
 *
 * Why not a count-ordered index kept in the meter's commits: it would cost two more mutations
 * (delete the old position, write the new one) for every counted request, on the hot path every
 * end-user action pays for. A scan costs only the founder who looks, and at most once per
 * `freshMs` per period: pages, searches and tier previews of the same period then answer from
 * memory (bench/preview.ts measures both sides).
 *
 * A metered feature's end-users are the same pass over that feature's counters
 * (`keys.usageFeatureInPeriod`), merged with the same recorded tiers.
 */
import { keys } from "../kv/keys.ts";
import { countOf, type StoredCount } from "../kv/usage.ts";
import { readTiers, type TierColumn } from "./tier_scan.ts";

/** One end-user of a period: their count and the tier they were counted under (`null`: unknown). */
export interface UserUsage {
  userId: string;
  plan: string | null;
  count: number;
}

/** Rows strictly after this one in (count descending, user id ascending) order. */
export interface Cursor {
  count: number;
  userId: string;
}

/** A period's end-users, columnar, sorted by count descending then user id (KV order). */
export class PeriodSnapshot {
  readonly builtAt: Date;
  readonly #ids: string[];
  readonly #counts: Float64Array;
  readonly #plans: Uint8Array;
  readonly #planNames: (string | null)[];
  /** tier id → its end-users' counts, ascending (built on first use). */
  readonly #tierCounts = new Map<string | null, Float64Array>();

  constructor(
    rows: { ids: string[]; counts: Float64Array; plans: Uint8Array; planNames: (string | null)[] },
    builtAt: Date,
  ) {
    const order = sortOrder(rows.counts);
    this.#ids = Array.from(order, (i) => rows.ids[i]);
    this.#counts = Float64Array.from(order, (i) => rows.counts[i]);
    this.#plans = Uint8Array.from(order, (i) => rows.plans[i]);
    this.#planNames = rows.planNames;
    this.builtAt = builtAt;
  }

  /** End-users in the period. */
  get size(): number {
    return this.#ids.length;
  }

  /** Units of every end-user together. */
  get units(): number {
    let sum = 0;
    for (const c of this.#counts) sum += c;
    return sum;
  }

  /**
   * Up to `limit` end-users after `after`, optionally only user ids starting with `q`; `more` when
   * rows remain.
   */
  page(options: { limit: number; after?: Cursor; q?: string }): {
    rows: UserUsage[];
    more: boolean;
  } {
    const { limit, after, q } = options;
    let i = after ? this.#firstAfter(after) : 0;
    const rows: UserUsage[] = [];
    for (; i < this.#ids.length; i++) {
      if (q !== undefined && !this.#ids[i].startsWith(q)) continue;
      if (rows.length === limit) return { rows, more: true };
      rows.push(this.#row(i));
    }
    return { rows, more: false };
  }

  /** The counts of a tier's end-users, ascending (`null`: end-users without a recorded tier). */
  tierCounts(plan: string | null): Float64Array {
    let counts = this.#tierCounts.get(plan);
    if (!counts) {
      const index = this.#planNames.indexOf(plan);
      const picked: number[] = [];
      if (index >= 0) {
        for (let i = 0; i < this.#plans.length; i++) {
          if (this.#plans[i] === index) picked.push(this.#counts[i]);
        }
      }
      counts = Float64Array.from(picked).sort();
      this.#tierCounts.set(plan, counts);
    }
    return counts;
  }

  #row(i: number): UserUsage {
    return { userId: this.#ids[i], plan: this.#planNames[this.#plans[i]], count: this.#counts[i] };
  }

  /** The first position whose row comes after the cursor (binary search over the sort order). */
  #firstAfter(cursor: Cursor): number {
    let lo = 0, hi = this.#ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.#counts[mid];
      const after = c < cursor.count ||
        (c === cursor.count && compareKeyStrings(this.#ids[mid], cursor.userId) > 0);
      if (after) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Positions sorted by count descending; rows arrive in KV order (user id ascending), so ties keep
 * their position. Packs (max − count, position) into one float and sorts natively when it fits
 * exactly in 53 bits (a few times faster than a comparator at 100,000 rows).
 */
function sortOrder(counts: Float64Array): Uint32Array {
  const n = counts.length;
  const max = counts.reduce((m, c) => (c > m ? c : m), 0);
  const shift = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  if ((max + 1) * shift < Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (max - counts[i]) * shift + i;
    packed.sort();
    return Uint32Array.from(packed, (key) => key % shift);
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => counts[b] - counts[a] || a - b);
}

/**
 * Reads a period's end-users: the counters (the main meter's, or `feature`'s) and the recorded
 * tiers, two lists in the same (user id) order, read side by side and merged. Reading is bound by
 * decoding entries on the JavaScript thread, so with `kvPath` (a KV file) the tiers are read by a
 * worker on another core meanwhile.
 */
export async function buildSnapshot(
  kv: Deno.Kv,
  platformId: string,
  period: string,
  now: Date,
  options: { kvPath?: string; feature?: string } = {},
): Promise<PeriodSnapshot> {
  const [counters, tiers] = await Promise.all([
    readCounters(kv, counterPrefix(platformId, period, options.feature)),
    options.kvPath
      ? readTiersInWorker(options.kvPath, platformId, period)
        .catch(() => readTiers(kv, platformId, period))
      : readTiers(kv, platformId, period),
  ]);
  // Both columns are in KV order: one merge pass gives each counted end-user their tier.
  const plans = new Uint8Array(counters.ids.length);
  let j = 0;
  for (let i = 0; i < counters.ids.length; i++) {
    const userId = counters.ids[i];
    while (j < tiers.ids.length && compareKeyStrings(tiers.ids[j], userId) < 0) j++;
    if (j < tiers.ids.length && tiers.ids[j] === userId) plans[i] = tiers.plans[j];
  }
  return new PeriodSnapshot(
    { ids: counters.ids, counts: counters.counts, plans, planNames: tiers.planNames },
    now,
  );
}

/** The prefix of a period's counters: the main meter's, or a metered feature's. */
export function counterPrefix(
  platformId: string,
  period: string,
  feature: string | undefined,
): Deno.KvKey {
  return feature === undefined
    ? keys.usageInPeriod(platformId, period)
    : keys.usageFeatureInPeriod(platformId, feature, period);
}

async function readCounters(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<{ ids: string[]; counts: Float64Array }> {
  const ids: string[] = [];
  const counts: number[] = [];
  const list = kv.list<StoredCount>({ prefix }, { batchSize: 1000 });
  const userPart = prefix.length;
  for await (const entry of list) {
    ids.push(entry.key[userPart] as string);
    counts.push(countOf(entry.value));
  }
  return { ids, counts: Float64Array.from(counts) };
}

function readTiersInWorker(path: string, platformId: string, period: string): Promise<TierColumn> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./tier_scan_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<{ ok: true; column: TierColumn } | { ok: false }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.column);
      else reject(new Error("tier scan failed"));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage({ path, platformId, period });
  });
}

/**
 * Merges a period's counters with its recorded tiers (both in user-id order): every counted
 * end-user once, with their tier or `null`.
 */
export async function* mergeUsage(
  counters: AsyncIterable<Deno.KvEntry<StoredCount>>,
  tiers: AsyncIterator<Deno.KvEntry<string>>,
): AsyncGenerator<UserUsage> {
  let tier = await tiers.next();
  for await (const entry of counters) {
    const userId = entry.key[entry.key.length - 1] as string;
    while (!tier.done && compareKeyStrings(tierUser(tier.value), userId) < 0) {
      tier = await tiers.next();
    }
    const plan = !tier.done && tierUser(tier.value) === userId ? tier.value.value : null;
    yield { userId, plan, count: countOf(entry.value) };
  }
}

function tierUser(entry: Deno.KvEntry<string>): string {
  return entry.key[entry.key.length - 1] as string;
}

/**
 * Compares strings the way Deno KV orders key parts (UTF-8 bytes, i.e. code points); JavaScript's
 * `<` compares UTF-16 units, which differs once characters beyond U+FFFF meet U+E000–U+FFFF.
 */
export function compareKeyStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point above U+FFFF) sorts after every BMP character in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export interface SnapshotCacheOptions {
  /** A snapshot this young is used as is (default 15 s). */
  freshMs?: number;
  /** An older one, up to this age, is used while a new one is built in the background (2 min). */
  staleMs?: number;
  /** Snapshots kept (default 8; each holds its period's end-users). */
  maxEntries?: number;
  /** Milliseconds clock for the ages above. */
  clock?: () => number;
  /** The KV file's path, so a worker can read tiers in parallel (not for `:memory:` or URLs). */
  kvPath?: string;
}

/** Period snapshots, built once per `freshMs` per period and shared by concurrent requests. */
export class SnapshotCache {
  readonly #freshMs: number;
  readonly #staleMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;
  readonly #kvPath: string | undefined;
  readonly #entries = new Map<string, { snapshot: PeriodSnapshot; at: number }>();
  readonly #building = new Map<string, Promise<PeriodSnapshot>>();

  constructor(options: SnapshotCacheOptions = {}) {
    this.#freshMs = options.freshMs ?? 15_000;
    this.#staleMs = options.staleMs ?? 120_000;
    this.#maxEntries = options.maxEntries ?? 8;
    this.#clock = options.clock ?? (() => performance.now());
    const path = options.kvPath;
    this.#kvPath = path && path !== ":memory:" && !/^https?:/.test(path) ? path : undefined;
  }

  /**
   * The period's snapshot (of the main meter, or of a metered `feature`): cached while fresh;
   * stale-but-recent ones answer while a rebuild runs.
   * @example const snap = await cache.get(kv, "plt_1", "2026-11", new Date())
   */
  async get(
    kv: Deno.Kv,
    platformId: string,
    period: string,
    now: Date,
    feature?: string,
  ): Promise<PeriodSnapshot> {
    const id = feature === undefined
      ? `${platformId}\u0000${period}`
      : `${platformId}\u0000${period}\u0000${feature}`;
    const entry = this.#entries.get(id);
    const age = entry ? this.#clock() - entry.at : Infinity;
    if (entry && age < this.#freshMs) return entry.snapshot;
    const building = this.#build(id, kv, platformId, period, now, feature);
    if (entry && age < this.#staleMs) {
      building.catch(() => {}); // the next request retries; this one has its answer
      return entry.snapshot;
    }
    return await building;
  }

  /** Starts building (unless a build is running) so a later `get` finds it ready. */
  warm(kv: Deno.Kv, platformId: string, period: string, now: Date, feature?: string): void {
    if (this.#freshMs <= 0) return; // nothing would be kept for the later request
    this.get(kv, platformId, period, now, feature).catch(() => {});
  }

  /** Resolves once every build running now has finished (tests; an orderly shutdown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#building.values()]);
  }

  #build(
    id: string,
    kv: Deno.Kv,
    platformId: string,
    period: string,
    now: Date,
    feature: string | undefined,
  ): Promise<PeriodSnapshot> {
    let building = this.#building.get(id);
    if (!building) {
      const started = this.#clock();
      building = buildSnapshot(kv, platformId, period, now, { kvPath: this.#kvPath, feature })
        .then((snapshot) => {
          this.#entries.delete(id);
          this.#entries.set(id, { snapshot, at: started });
          while (this.#entries.size > this.#maxEntries) {
            this.#entries.delete(this.#entries.keys().next().value!);
          }
          return snapshot;
        })
        .finally(() => this.#building.delete(id));
      this.#building.set(id, building);
    }
    return building;
  }
}
