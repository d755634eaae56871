/**
 * The usage meter: exact per-end-user counting with group commit.
 *
 * Concurrent `count()` calls are gathered while the previous commit is in flight and committed
 * together, many end-users' increments in one checked atomic operation; each call resolves only
 * after the commit that carries it succeeded, so an answered 200 is durable.
 *
 * Exactness across processes: counters are grouped into shards, and every writer of a counter
 * checks and bumps its shard's guard key (`keys.usageShard`). One check thus covers every counter
 * of the shard, which keeps a commit within denokv's limit of 10 checks. A process remembers the
 * guard versionstamp it last saw per shard; while the guard is unchanged its cached counts are
 * exact, so the common case needs no read at all. A failed check re-reads only the guards of that
 * commit, forgets the shards that moved, and retries.
 */
import { keys } from "../kv/keys.ts";
import type { Period } from "./period.ts";

export interface CountRequest {
  platformId: string;
  userId: string;
  /** The tier id, stored with an idempotent answer. */
  plan: string;
  period: Period;
  /** `null` is unlimited. */
  limit: number | null;
  amount: number;
  idempotencyKey?: string;
}

/** What a count answered; `replayed` when it is the stored first answer of an idempotency key. */
export interface CountResult {
  ok: boolean;
  replayed: boolean;
  count: number;
  limit: number | null;
  plan: string;
  period: { start: string; end: string };
}

/** Limits of one atomic operation on every Deno KV backend (denokv: 10 checks, 1,000 mutations). */
export const KV_LIMITS = { checks: 10, mutations: 1000, readKeys: 10 } as const;

export interface MeterOptions {
  /** Guard shards per platform and period. More shards: fewer conflicts between processes. */
  shards?: number;
  /** Most requests committed in one batch (keeps every commit under the mutation limit). */
  maxBatch?: number;
  /** Most end-user counters remembered in memory. */
  cacheSize?: number;
  /** Called with the atomic operation of each commit before it is sent; analytics adds its sums. */
  beforeCommit?: (op: Deno.AtomicOperation, granted: readonly CountRequest[]) => void;
}

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 200;

interface StoredAnswer extends CountResult {
  expiresAt: number;
}

interface Pending {
  req: CountRequest;
  counterKey: Deno.KvKey;
  counterId: string;
  guardKey: Deno.KvKey;
  guardId: string;
  resolve: (r: CountResult) => void;
  reject: (e: unknown) => void;
}

interface ShardGroup {
  guardKey: Deno.KvKey;
  guardId: string;
  items: Pending[];
}

interface Loaded {
  /** idempotency-record id → the stored first answer */
  answers: Map<string, StoredAnswer>;
  /** counter id → the committed count under the guard versionstamp now known */
  counts: Map<string, number>;
}

interface ShardState {
  versionstamp: string | null;
  epoch: number;
}

/** Exact, batched usage counting over one Deno KV. One instance per process. */
export class UsageMeter {
  readonly #kv: Deno.Kv;
  readonly #shards: number;
  readonly #maxBatch: number;
  readonly #cacheSize: number;
  readonly #beforeCommit?: MeterOptions["beforeCommit"];

  #queue: Pending[] = [];
  #draining: Promise<void> | null = null;
  #closed = false;
  #nextEpoch = 1;
  /** guard id → the guard versionstamp this process last saw, and the epoch of counts cached under it. */
  readonly #guards = new Map<string, ShardState>();
  /** counter id → count, valid while `epoch` equals its guard's epoch. Insertion order is LRU order. */
  readonly #counts = new Map<string, { count: number; epoch: number }>();

  constructor(kv: Deno.Kv, options: MeterOptions = {}) {
    this.#kv = kv;
    this.#shards = options.shards ?? 16;
    this.#maxBatch = options.maxBatch ?? 400;
    this.#cacheSize = options.cacheSize ?? 100_000;
    this.#beforeCommit = options.beforeCommit;
  }

  /** Counts `amount` for an end-user if it fits the limit; resolves after the commit. */
  count(req: CountRequest): Promise<CountResult> {
    if (this.#closed) return Promise.reject(new MeterClosedError());
    const counterKey = keys.usage(req.platformId, req.period.key, req.userId);
    const guardKey = keys.usageShard(
      req.platformId,
      req.period.key,
      shardOf(req.userId, this.#shards),
    );
    return new Promise((resolve, reject) => {
      this.#queue.push({
        req,
        counterKey,
        counterId: idOf(counterKey),
        guardKey,
        guardId: idOf(guardKey),
        resolve,
        reject,
      });
      this.#draining ??= this.#drain();
    });
  }

  /** The end-user's committed count in a period (a strongly consistent read). */
  async read(platformId: string, period: Period, userId: string): Promise<number> {
    const entry = await this.#kv.get<number>(keys.usage(platformId, period.key, userId));
    return entry.value ?? 0;
  }

  /** Stops taking requests, commits and answers everything already taken. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#draining) await this.#draining;
  }

  /** Requests waiting for the next commit (for tests and metrics). */
  get pending(): number {
    return this.#queue.length;
  }

  async #drain(): Promise<void> {
    // One microtask turn lets requests that arrived together share the first commit.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await Promise.all(this.#plan(batch).map((groups) => this.#commitGroups(groups)));
      }
    } finally {
      this.#draining = null;
    }
  }

  /** Splits a batch into shard groups, then packs the groups into commits of at most 10 checks. */
  #plan(batch: Pending[]): ShardGroup[][] {
    const groups = new Map<string, ShardGroup>();
    for (const item of batch) {
      let group = groups.get(item.guardId);
      if (!group) {
        groups.set(
          item.guardId,
          group = { guardKey: item.guardKey, guardId: item.guardId, items: [] },
        );
      }
      group.items.push(item);
    }
    const commits: ShardGroup[][] = [];
    let current: ShardGroup[] = [];
    for (const group of groups.values()) {
      if (current.length === KV_LIMITS.checks) commits.push(current = []);
      current.push(group);
    }
    if (current.length > 0) commits.push(current);
    return commits;
  }

  /** Reads what it must, decides, commits; on a failed check refreshes the moved guards and retries. */
  async #commitGroups(groups: ShardGroup[]): Promise<void> {
    const items = groups.flatMap((g) => g.items);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const loaded = await this.#load(groups);
        const decision = this.#decide(items, loaded);
        const op = this.#kv.atomic();
        for (const g of groups) {
          op.check({ key: g.guardKey, versionstamp: this.#guards.get(g.guardId)!.versionstamp });
          op.sum(g.guardKey, 1n);
        }
        for (const { key, count } of decision.writes.values()) op.set(key, count);
        for (const { key, answer } of decision.answers) {
          op.set(key, answer, { expireIn: IDEMPOTENCY_TTL_MS });
        }
        this.#beforeCommit?.(op, decision.granted);
        const result = await op.commit();
        if (result.ok) {
          for (const g of groups) this.#guards.get(g.guardId)!.versionstamp = result.versionstamp;
          for (const [id, { count, guardId }] of decision.writes) {
            this.#remember(id, count, this.#guards.get(guardId)!.epoch);
          }
          for (const [item, answer] of decision.results) item.resolve(answer);
          return;
        }
        await this.#refreshGuards(groups);
        if (attempt >= 2) await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
      throw new Error(`usage commit still conflicting after ${MAX_ATTEMPTS} attempts`);
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }

  /**
   * Makes sure every guard has a known versionstamp and every counter a count valid under it,
   * reading only what the cache lacks; returns the idempotency answers found in KV.
   */
  async #load(groups: ShardGroup[]): Promise<Loaded> {
    const answers = new Map<string, StoredAnswer>();
    const counts = new Map<string, number>();
    await Promise.all(groups.map(async (g) => {
      const state = this.#guards.get(g.guardId);
      const missing = new Map<string, Deno.KvKey>();
      for (const item of g.items) {
        const cached = this.#counts.get(item.counterId);
        if (state && cached && cached.epoch === state.epoch) {
          counts.set(item.counterId, cached.count);
        } else {
          missing.set(item.counterId, item.counterKey);
        }
        if (item.req.idempotencyKey !== undefined) {
          const key = idempotencyKeyOf(item.req);
          missing.set(idOf(key), key);
        }
      }
      if (state && missing.size === 0) return;

      let wanted = [...missing.values()];
      let readAll = false;
      for (let tries = 0;; tries++) {
        const chunks: Deno.KvKey[][] = [];
        for (let i = 0; i < Math.max(1, wanted.length); i += KV_LIMITS.readKeys - 1) {
          chunks.push([g.guardKey, ...wanted.slice(i, i + KV_LIMITS.readKeys - 1)]);
        }
        const reads = await Promise.all(chunks.map((chunk) => this.#kv.getMany(chunk)));
        const stamp = reads[0][0].versionstamp;
        // Chunks read at different guard versions may mix counts from before and after a write.
        if (reads.some((r) => r[0].versionstamp !== stamp) && tries < MAX_ATTEMPTS) continue;
        const known = this.#guards.get(g.guardId);
        if (known && known.versionstamp !== stamp && !readAll) {
          // The guard moved since the cached counts were taken: read every counter of the group.
          for (const item of g.items) missing.set(item.counterId, item.counterKey);
          wanted = [...missing.values()];
          readAll = true;
          continue;
        }

        const epoch = known && known.versionstamp === stamp ? known.epoch : this.#nextEpoch++;
        this.#guards.set(g.guardId, { versionstamp: stamp, epoch });
        const now = Date.now();
        for (const read of reads) {
          for (const entry of read.slice(1)) {
            if (entry.key[0] === "usage") {
              const count = (entry.value as number | null) ?? 0;
              counts.set(idOf(entry.key), count);
              this.#remember(idOf(entry.key), count, epoch);
            } else {
              const answer = entry.value as StoredAnswer | null;
              if (answer && answer.expiresAt > now) answers.set(idOf(entry.key), answer);
            }
          }
        }
        return;
      }
    }));
    return { answers, counts };
  }

  /** Grants in arrival order while the limit allows; the same idempotency key answers once. */
  #decide(items: Pending[], loaded: Loaded) {
    const { answers: stored, counts } = loaded;
    const writes = new Map<string, { key: Deno.KvKey; count: number; guardId: string }>();
    const answers: { key: Deno.KvKey; answer: StoredAnswer }[] = [];
    const results: [Pending, CountResult][] = [];
    const firstAnswer = new Map<string, CountResult>();
    const granted: CountRequest[] = [];

    for (const item of items) {
      const { req } = item;
      let idemId: string | undefined;
      if (req.idempotencyKey !== undefined) {
        idemId = idOf(idempotencyKeyOf(req));
        const earlier = stored.get(idemId) ?? firstAnswer.get(idemId);
        if (earlier) {
          results.push([item, { ...stripExpiry(earlier), replayed: true }]);
          continue;
        }
      }
      const before = counts.get(item.counterId)!;
      const fits = req.limit === null || before + req.amount <= req.limit;
      const count = fits ? before + req.amount : before;
      const result: CountResult = {
        ok: fits,
        replayed: false,
        count,
        limit: req.limit,
        plan: req.plan,
        period: { start: req.period.start.toISOString(), end: req.period.end.toISOString() },
      };
      if (fits) {
        counts.set(item.counterId, count);
        writes.set(item.counterId, { key: item.counterKey, count, guardId: item.guardId });
        granted.push(req);
      }
      if (idemId !== undefined) {
        firstAnswer.set(idemId, result);
        // A refusal counted nothing, so it is not stored: a retry may pass once there is room.
        if (fits) {
          answers.push({
            key: idempotencyKeyOf(req),
            answer: { ...result, expiresAt: Date.now() + IDEMPOTENCY_TTL_MS },
          });
        }
      }
      results.push([item, result]);
    }
    return { writes, answers, results, granted };
  }

  /** After a failed check: reads the guards of that commit and forgets the shards that moved. */
  async #refreshGuards(groups: ShardGroup[]): Promise<void> {
    const entries = await this.#kv.getMany(groups.map((g) => g.guardKey));
    groups.forEach((g, i) => {
      const state = this.#guards.get(g.guardId);
      if (!state || state.versionstamp !== entries[i].versionstamp) {
        this.#guards.set(g.guardId, {
          versionstamp: entries[i].versionstamp,
          epoch: this.#nextEpoch++,
        });
      }
    });
  }

  #remember(counterId: string, count: number, epoch: number): void {
    this.#counts.delete(counterId);
    this.#counts.set(counterId, { count, epoch });
    if (this.#counts.size > this.#cacheSize) {
      this.#counts.delete(this.#counts.keys().next().value!);
    }
  }
}

/** Raised for counts asked after `close()`. */
export class MeterClosedError extends Error {
  override name = "MeterClosedError";
}

function idempotencyKeyOf(req: CountRequest): Deno.KvKey {
  return keys.idempotency(req.platformId, req.userId, req.idempotencyKey!);
}

function stripExpiry(
  { expiresAt: _, ...answer }: StoredAnswer | CountResult & { expiresAt?: number },
): CountResult {
  return answer;
}

/** A stable string id for a KV key (parts are strings and numbers, joined by a separator they can't hold). */
function idOf(key: Deno.KvKey): string {
  return key.join("\u0000");
}

/** FNV-1a of the user id → shard number. */
export function shardOf(userId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
