/**
 * How many operations fit one Deno KV call: the limits of an atomic commit and of a `getMany`, the
 * size of a key, and the rules that pack a batch of writes and reads within them. Used by the usage
 * meter (and analytics' `commitCost`), kept here with the rest of the KV code so that a backend's
 * limit changes in one place.
 */

/**
 * Limits of one atomic operation that hold on every Deno KV backend (denokv and KV Connect allow
 * 10 checks; every backend 1,000 mutations, 80 KiB of keys and 800 KiB of keys plus values),
 * and of one `getMany` (10 keys).
 */
export const KV_LIMITS = {
  checks: 10,
  mutations: 1000,
  keyBytes: 80 * 1024,
  mutationBytes: 800 * 1024,
  readKeys: 10,
} as const;

/**
 * What one commit may hold: the meter's own writes plus what `commitCost` declares for
 * `beforeCommit`. The rest of `KV_LIMITS` is a margin.
 */
export const COMMIT_BUDGET = { mutations: 900, keyBytes: 64 * 1024, mutationBytes: 640 * 1024 };

/**
 * What a commit may hold beyond `COMMIT_BUDGET`, for what the meter adds only once it has decided:
 * threshold events (`QUEUE_EVENT_COST` each) and their notices. They are rare (at most two per
 * end-user, counter and period), so they are not reserved for every request; a commit whose events
 * would not fit is split in two before it is sent. Within `KV_LIMITS` − `COMMIT_BUDGET`, with a margin.
 */
export const DECIDED_BUDGET = { mutations: 90, keyBytes: 15 * 1024, mutationBytes: 150 * 1024 };

/** Upper bound of a stored threshold notice (two short lists of limits). */
export const NOTICE_BYTES = 256;

/** Whether `cost` fits `DECIDED_BUDGET`. */
export function fitsDecidedBudget(cost: CommitCost): boolean {
  return cost.mutations <= DECIDED_BUDGET.mutations &&
    cost.keyBytes <= DECIDED_BUDGET.keyBytes &&
    cost.mutationBytes <= DECIDED_BUDGET.mutationBytes;
}

/** Upper bound of a stored idempotent answer's serialized size (plan ids are ≤ 40 characters). */
export const ANSWER_BYTES = 512;

/** Upper bound of a stored counter or guard (a `Deno.KvU64`). */
export const COUNTER_BYTES = 16;

/** Mutations, key bytes and key+value bytes added to one atomic operation. */
export interface CommitCost {
  mutations: number;
  keyBytes: number;
  mutationBytes: number;
}

/**
 * An upper bound of a key's encoded size: a tag and a terminator per part, UTF-8 strings
 * (a NUL escaped to two bytes), 9 bytes per number.
 */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") {
      n += 2;
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        n += c === 0 ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    } else {
      n += 10;
    }
  }
  return n;
}

/** A stable string id for a KV key (parts are strings and numbers, joined by a separator they can't hold). */
export function idOf(key: Deno.KvKey): string {
  return key.join("\u0000");
}

/** Something written or read under a shard guard: one check covers every item of its guard. */
export interface Guarded {
  guardKey: Deno.KvKey;
  guardId: string;
}

/** A guard with the items under it, in arrival order. */
export interface ShardGroup<T extends Guarded> {
  guardKey: Deno.KvKey;
  guardId: string;
  items: T[];
}

/** Splits items by their shard guard, keeping arrival order within each group. */
export function groupByGuard<T extends Guarded>(items: readonly T[]): ShardGroup<T>[] {
  const groups = new Map<string, ShardGroup<T>>();
  for (const item of items) {
    let group = groups.get(item.guardId);
    if (!group) {
      group = { guardKey: item.guardKey, guardId: item.guardId, items: [] };
      groups.set(item.guardId, group);
    }
    group.items.push(item);
  }
  return [...groups.values()];
}

/** Packs shard groups, in order, into commits of at most `KV_LIMITS.checks` groups (one check each). */
export function packChecks<G>(groups: readonly G[]): G[][] {
  const commits: G[][] = [];
  let current: G[] = [];
  for (const group of groups) {
    if (current.length === KV_LIMITS.checks) {
      commits.push(current);
      current = [];
    }
    current.push(group);
  }
  if (current.length > 0) commits.push(current);
  return commits;
}

/** An item of a batch as the commit budget sees it. */
export interface Budgeted extends Guarded {
  /** whether it also writes an idempotency record */
  idemKey: Deno.KvKey | undefined;
  /** key bytes and key+value bytes it adds to a commit (see `requestBytes`) */
  keyBytes: number;
  mutationBytes: number;
}

/** What a `beforeCommit` hook adds for an item: `each` for every one, `once` per `group` in a commit. */
export type HookCost<T> = (item: T) => { each: CommitCost; group: string; once: CommitCost };

/** Key+value bytes a counted request adds to a commit: its counter, and its answer if idempotent. */
export function requestMutationBytes(counterKeyBytes: number, idemKeyBytes: number): number {
  return counterKeyBytes + COUNTER_BYTES + (idemKeyBytes ? idemKeyBytes + ANSWER_BYTES : 0);
}

/**
 * How many of the oldest `queue` items fit one commit's budget (at most `max`): a counter write
 * each, an idempotency record, one guard check-and-sum per new guard, and what `hook` adds. Always
 * at least one (a lone request always fits).
 */
export function fitCommit<T extends Budgeted>(
  queue: readonly T[],
  max: number,
  hook?: HookCost<T>,
): number {
  const guards = new Set<string>();
  const hookGroups = new Set<string>();
  let mutations = 0, keys = 0, bytes = 0, n = 0;
  for (; n < queue.length && n < max; n++) {
    const item = queue[n];
    const newGuard = !guards.has(item.guardId);
    const guardBytes = newGuard ? 2 * keyBytes(item.guardKey) : 0;
    const cost = hook?.(item);
    const once = cost && !hookGroups.has(cost.group) ? cost.once : undefined;
    const m = mutations + (item.idemKey ? 2 : 1) + (newGuard ? 1 : 0) +
      (cost?.each.mutations ?? 0) + (once?.mutations ?? 0);
    const k = keys + item.keyBytes + guardBytes + (cost?.each.keyBytes ?? 0) +
      (once?.keyBytes ?? 0);
    const b = bytes + item.mutationBytes + guardBytes + (newGuard ? COUNTER_BYTES : 0) +
      (cost?.each.mutationBytes ?? 0) + (once?.mutationBytes ?? 0);
    const over = m > COMMIT_BUDGET.mutations || k > COMMIT_BUDGET.keyBytes ||
      b > COMMIT_BUDGET.mutationBytes;
    if (over && n > 0) break;
    if (newGuard) guards.add(item.guardId);
    if (once) hookGroups.add(cost!.group);
    mutations = m, keys = k, bytes = b;
  }
  return n;
}

/**
 * The keys one shard group must read, in units of `[guard, ≤ 9 keys]` (one unit of the guard alone
 * when there are none): each unit is read in one snapshot with its guard, so its versionstamp tells
 * whether the counts in it are current.
 */
export function readUnits<N>(
  need: N,
  guardKey: Deno.KvKey,
  wanted: readonly Deno.KvKey[],
): { need: N; keys: Deno.KvKey[] }[] {
  const out: { need: N; keys: Deno.KvKey[] }[] = [];
  for (let i = 0; i < Math.max(1, wanted.length); i += KV_LIMITS.readKeys - 1) {
    out.push({ need, keys: [guardKey, ...wanted.slice(i, i + KV_LIMITS.readKeys - 1)] });
  }
  return out;
}

/** Packs read units, in order, into `getMany` calls of at most `KV_LIMITS.readKeys` keys. */
export function packReads<U extends { keys: readonly Deno.KvKey[] }>(units: readonly U[]): U[][] {
  const calls: U[][] = [];
  let size = 0;
  for (const unit of units) {
    if (calls.length === 0 || size + unit.keys.length > KV_LIMITS.readKeys) {
      calls.push([]);
      size = 0;
    }
    calls.at(-1)!.push(unit);
    size += unit.keys.length;
  }
  return calls;
}
