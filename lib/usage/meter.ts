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
 *
 * Every process writing one KV must use the same `shards` count: the shard decides the guard.
 *
 * On a local KV file, pass a second handle of the same file as `reads`: one handle runs its
 * operations one after the other, so a read on the writing handle waits behind a commit's fsync.
 *
 * A request naming a metered `feature` counts on that feature's own counter (`keys.usageFeature`),
 * under the same shard guard as the end-user's main counter, with the same guarantees.
 *
 * Threshold events (`usage.near_limit`, `usage.limit_reached`) are queued in the founders' outbox
 * (lib/kv/outbox.ts) by the very commit that crosses the threshold, so an event exists exactly when
 * the count that caused it does. Which limits were already notified is a small per-counter record
 * (`keys.usageNotice`) under the same guard, read only for requests that may reach 80 % of their
 * limit and cached under the guard's epoch like counts: a count far from its limit costs nothing.
 *
 * This module is the batching, caching and retrying around two others: `decide` (./decide.ts, pure)
 * says who is granted and what is notified, and lib/kv/packing.ts says how much fits one commit
 * and one read.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { fnv1a } from "../hash.ts";
import { keys } from "../kv/keys.ts";
import {
  type CommitCost,
  fitCommit,
  fitsDecidedBudget,
  groupByGuard,
  type HookCost,
  idOf,
  keyBytes,
  NOTICE_BYTES,
  packChecks,
  packReads,
  readUnits,
  requestMutationBytes,
  type ShardGroup,
} from "../kv/packing.ts";
import { QUEUE_EVENT_COST, queueEvent } from "../kv/outbox.ts";
import { isTransientKvError, retryTransient } from "../kv/retry.ts";
import { countOf, type StoredCount, toStoredCount } from "../kv/usage.ts";
import {
  countFingerprint,
  type CountRequest,
  type CountResult,
  decide,
  type DecidedRequest,
  type Decision,
  IDEMPOTENCY_TTL_MS,
  mayNotify,
  type Notice,
  type StoredAnswer,
} from "./decide.ts";
import { thresholdEvent } from "./events.ts";
import { type Period, periodBoundsMemo } from "./period.ts";

export type { CountRequest, CountResult, DecidedRequest };

export interface MeterOptions {
  /**
   * Guard shards per platform (default 8), the same in every process. More shards, fewer conflicts
   * between processes; up to 10, one platform's batch is one commit (10 checks), and every commit
   * costs a KV file an fsync.
   */
  shards?: number;
  /** A second handle on the same KV for reads (never `:memory:`: that would be another database). */
  reads?: Deno.Kv;
  /** Most requests committed in one batch. */
  maxBatch?: number;
  /**
   * Most end-user counts remembered (default 50,000, about 5 MiB; a forgotten count costs one read
   * when its end-user comes back). Raise it together with the V8 heap cap of `deno task start`.
   */
  cacheSize?: number;
  /** Most shard guards remembered in memory (`shards` per platform). */
  guardCacheSize?: number;
  /** Most threshold notices remembered (default 20,000; only end-users near a limit have one). */
  noticeCacheSize?: number;
  /**
   * Whether counts crossing a threshold queue founders' events in their commit (default `true`).
   * Events are written whether or not the founder set an endpoint: delivery drops the others.
   */
  events?: boolean;
  /** The clock of idempotency expiry (ms since the epoch). */
  now?: () => number;
  /**
   * Called with the atomic operation of each commit before it is sent and the requests it decides
   * (analytics adds its `sum`s); what it returns is called once that commit has succeeded.
   */
  beforeCommit?: (
    op: Deno.AtomicOperation,
    decided: readonly DecidedRequest[],
  ) => (() => void) | void;
  /**
   * The most `beforeCommit` adds to a commit for a request: `each` for every request, plus `once`
   * for the first request of its `group` in the commit. Counted in every commit's budget.
   */
  commitCost?: (req: CountRequest) => { each: CommitCost; group: string; once: CommitCost };
}

/**
 * What the routes need of a meter: this module's `UsageMeter`, or a `RemoteMeter`
 * (./remote_meter.ts) asking the one of another isolate.
 */
export interface Meter {
  /** Counts `amount` if it fits the limit; resolves once the count is durable. */
  count(req: CountRequest): Promise<CountResult>;
  /** The end-user's committed count in a period (of `feature`'s counter when given). */
  read(platformId: string, period: Period, userId: string, feature?: string): Promise<number>;
  /** Takes no more calls; resolves once every call taken is answered. */
  close(): Promise<void>;
}

/**
 * Counters of the meter's work, for tests and the benchmark. Only what KV answered is counted as
 * work; an attempt that found the database locked is counted apart, as contention.
 */
export interface MeterStats {
  /** Commits KV answered (applied, or refused by a check). */
  commits: number;
  /** Attempts run again because a guard moved: failed checks and guards moved between reads. */
  conflicts: number;
  /** Reads (getMany calls) KV answered, each counted once all of its round's are in. */
  reads: number;
  /** Reads and commits that met a locked database (another handle's write) and ran again. */
  transient: number;
}

const MAX_ATTEMPTS = 200;

/** How long a threshold notice outlives its period (calls straddling the end, clock skew). */
const NOTICE_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

/** A counter to know, under its shard's guard; with the idempotency record to look up, if any. */
interface Counted {
  counterKey: Deno.KvKey;
  counterId: string;
  guardKey: Deno.KvKey;
  guardId: string;
  /** set for requests with an idempotency key */
  idemKey: Deno.KvKey | undefined;
  idemId: string | undefined;
}

interface Pending extends Counted {
  req: CountRequest;
  /** the counter's threshold notice, set once the request is found near its limit */
  noticeKey?: Deno.KvKey;
  noticeId?: string;
  /** `countFingerprint(req)`, for requests with an idempotency key */
  fingerprint: string | undefined;
  /** key bytes and key+value bytes this request may add to a commit */
  keyBytes: number;
  mutationBytes: number;
  resolve: (r: CountResult) => void;
  reject: (e: unknown) => void;
}

interface PendingRead extends Counted {
  resolve: (count: number) => void;
  reject: (e: unknown) => void;
}

interface Loaded {
  /** guard id → the state the commit checks against (captured: the LRU may drop it meanwhile) */
  guards: Map<string, ShardState>;
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
export class UsageMeter implements Meter {
  readonly #kv: Deno.Kv;
  readonly #reads: Deno.Kv;
  readonly #shards: number;
  readonly #maxBatch: number;
  readonly #now: () => number;
  readonly #beforeCommit?: MeterOptions["beforeCommit"];
  readonly #events: boolean;
  /** `commitCost` as the commit budget asks it (made once: no closure per batch). */
  readonly #hookCost?: HookCost<Pending>;

  #queue: Pending[] = [];
  #readQueue: PendingRead[] = [];
  #reading: Promise<void> | null = null;
  #draining: Promise<void> | null = null;
  #closed = false;
  #nextEpoch = 1;
  /** guard id → the guard versionstamp this process last saw, and the epoch of counts cached under it. */
  readonly #guards: BoundedCache<string, ShardState>;
  /** counter id → count, valid while `epoch` equals its guard's epoch. */
  readonly #counts: BoundedCache<string, { count: number; epoch: number }>;
  /** notice id → the counter's threshold notice (`null`: none), valid like `#counts`. */
  readonly #notices: BoundedCache<string, { notice: Notice | null; epoch: number }>;
  readonly #stats: MeterStats = { commits: 0, conflicts: 0, reads: 0, transient: 0 };
  /** platform id → its guard keys and ids by shard (built once: the hot path allocates less) */
  readonly #guardKeys = new Map<string, { key: Deno.KvKey; id: string }[]>();
  /** A period's ISO bounds as answered, built once per period (`decide` takes it as is). */
  readonly #boundsOf = periodBoundsMemo();

  constructor(kv: Deno.Kv, options: MeterOptions = {}) {
    this.#kv = kv;
    this.#reads = options.reads ?? kv;
    this.#shards = options.shards ?? 8;
    this.#maxBatch = options.maxBatch ?? 400;
    this.#counts = new BoundedCache(options.cacheSize ?? 50_000);
    this.#guards = new BoundedCache(options.guardCacheSize ?? 65_536);
    this.#notices = new BoundedCache(options.noticeCacheSize ?? 20_000);
    this.#events = options.events ?? true;
    this.#now = options.now ?? Date.now;
    this.#beforeCommit = options.beforeCommit;
    const commitCost = options.commitCost;
    if (commitCost) this.#hookCost = (item) => commitCost(item.req);
  }

  /**
   * Counts `amount` for an end-user (on `req.feature`'s counter when it names one) if it fits the
   * limit; resolves after the commit.
   */
  count(req: CountRequest): Promise<CountResult> {
    if (this.#closed) return Promise.reject(new MeterClosedError());
    const counterKey = counterKeyOf(req.platformId, req.period, req.userId, req.feature);
    const guard = this.#guardOf(req.platformId, req.userId);
    const idemKey = req.idempotencyKey === undefined
      ? undefined
      : keys.idempotency(req.platformId, req.userId, req.idempotencyKey);
    const counterBytes = keyBytes(counterKey);
    const idemBytes = idemKey ? keyBytes(idemKey) : 0;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        req,
        counterKey,
        counterId: idOf(counterKey),
        guardKey: guard.key,
        guardId: guard.id,
        idemKey,
        idemId: idemKey && idOf(idemKey),
        fingerprint: idemKey && countFingerprint(req),
        keyBytes: counterBytes + idemBytes,
        mutationBytes: requestMutationBytes(counterBytes, idemBytes),
        resolve,
        reject,
      });
      this.#draining ??= this.#drain();
    });
  }

  /**
   * The end-user's committed count in a period (of `feature`'s counter when given), as KV holds it
   * at a read made after this call. Reads asked together share their KV reads, and one read of a
   * shard's guard confirms every count this process holds for that shard, so a cached count costs
   * no read of its own.
   */
  read(platformId: string, period: Period, userId: string, feature?: string): Promise<number> {
    const counterKey = counterKeyOf(platformId, period, userId, feature);
    const guard = this.#guardOf(platformId, userId);
    return new Promise((resolve, reject) => {
      this.#readQueue.push({
        counterKey,
        counterId: idOf(counterKey),
        guardKey: guard.key,
        guardId: guard.id,
        idemKey: undefined,
        idemId: undefined,
        resolve,
        reject,
      });
      this.#reading ??= this.#readLoop();
    });
  }

  /**
   * Like commits, reads asked while a read is in flight wait for it and go together in the next
   * one; each is answered from a read made after it was asked.
   */
  async #readLoop(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.#readQueue.length > 0) {
        const batch = this.#readQueue;
        this.#readQueue = [];
        try {
          const { counts } = await retryTransient(() => this.#load(groupByGuard(batch), true));
          for (const item of batch) item.resolve(counts.get(item.counterId)!);
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.#reading = null;
    }
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

  /** Commits, failed checks and KV reads so far. */
  get stats(): Readonly<MeterStats> {
    return { ...this.#stats };
  }

  async #drain(): Promise<void> {
    // One microtask turn lets requests that arrived together share the first commit.
    await Promise.resolve();
    try {
      let answer: (() => void)[] = [];
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch();
        const commits = this.#plan(batch).map((groups) => this.#commitGroups(groups));
        // The previous batch is answered only now that this one is on its way to KV: its
        // responses are built while KV commits, instead of before KV has anything to do.
        for (const resolve of answer) resolve();
        answer = (await Promise.all(commits)).flat();
      }
      for (const resolve of answer) resolve();
    } finally {
      this.#draining = null;
    }
  }

  /**
   * Takes the oldest requests that fit one commit's budget, so that every commit of the batch
   * does whatever its shard groups are. Always takes at least one (a lone request always fits).
   */
  #takeBatch(): Pending[] {
    return this.#queue.splice(0, fitCommit(this.#queue, this.#maxBatch, this.#hookCost));
  }

  /** Splits a batch into shard groups, then packs the groups into commits of at most 10 checks. */
  #plan(batch: Pending[]): ShardGroup<Pending>[][] {
    return packChecks(groupByGuard(batch));
  }

  /**
   * Reads what it must, decides, commits; on a failed check refreshes the moved guards and
   * retries. Resolves to the answers to give (the caller gives them); a failure rejects at once.
   */
  async #commitGroups(groups: ShardGroup<Pending>[]): Promise<(() => void)[]> {
    const items = groups.flatMap((g) => g.items);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (attempt >= 2) await sleep(Math.random() * Math.min(50, 2 ** attempt));
        let result: Deno.KvCommitResult | Deno.KvCommitError;
        let loaded: Loaded, decision: Decision<Pending>, committed: (() => void) | void;
        let notices: Map<string, Notice | null> | null;
        try {
          loaded = await this.#load(groups);
          notices = this.#events ? await this.#loadNotices(groups, loaded) : new Map();
          if (notices === null) {
            // A guard moved between the two reads: the counts may be stale; read them again.
            this.#stats.conflicts++;
            continue;
          }
          const now = this.#now();
          decision = decide(items, loaded.counts, loaded.answers, now, this.#boundsOf, notices);
          if (
            decision.events.length > 0 && items.length > 1 &&
            !fitsDecidedBudget(eventsCost(decision))
          ) {
            // Too many events for one commit (many end-users crossing at once): halve the batch.
            const half = Math.ceil(items.length / 2);
            const first = await this.#commitGroups(groupByGuard(items.slice(0, half)));
            const second = await this.#commitGroups(groupByGuard(items.slice(half)));
            return [...first, ...second];
          }
          const op = this.#kv.atomic();
          for (const g of groups) {
            op.check({ key: g.guardKey, versionstamp: loaded.guards.get(g.guardId)!.versionstamp });
            op.sum(g.guardKey, 1n);
          }
          for (const { item, count } of decision.writes.values()) {
            op.set(item.counterKey, toStoredCount(count));
          }
          for (const { item, answer } of decision.answers) {
            op.set(item.idemKey!, answer, { expireIn: IDEMPOTENCY_TTL_MS });
          }
          for (const { item, notice } of decision.notices.values()) {
            // Needed only while its period can still be counted: gone a week after it ends.
            const expireIn = Math.max(0, item.req.period.end.getTime() - now) + NOTICE_GRACE_MS;
            op.set(item.noticeKey!, notice, { expireIn });
          }
          for (const { item, type, count } of decision.events) {
            const event = thresholdEvent(
              item.req,
              type,
              count,
              this.#boundsOf(item.req.period),
              now,
            );
            queueEvent(op, item.req.platformId, event, now);
          }
          committed = this.#beforeCommit?.(op, decision.decided);
          result = await op.commit();
          this.#stats.commits++;
        } catch (error) {
          // Another process holding the SQLite file's write lock is contention, not a failure:
          // the transaction did not happen, so the same attempt can simply run again.
          if (!isTransientKvError(error)) throw error;
          this.#stats.transient++;
          continue;
        }
        if (result.ok) {
          for (const g of groups) {
            const { epoch } = loaded.guards.get(g.guardId)!;
            this.#setGuard(g.guardId, { versionstamp: result.versionstamp, epoch });
          }
          for (const [id, { item, count }] of decision.writes) {
            this.#remember(id, count, loaded.guards.get(item.guardId)!.epoch);
          }
          for (const [id, { item, notice }] of decision.notices) {
            this.#notices.set(id, { notice, epoch: loaded.guards.get(item.guardId)!.epoch });
          }
          committed?.();
          return decision.results.map(([item, answer]) => () => item.resolve(answer));
        }
        this.#stats.conflicts++;
        await this.#refreshGuards(groups).catch((error) => {
          if (!isTransientKvError(error)) throw error;
          this.#stats.transient++;
          // Unknown state: forget the guards, so the next attempt reads them and their counters.
          for (const g of groups) this.#guards.delete(g.guardId);
        });
      }
      throw new Error(`usage commit still conflicting after ${MAX_ATTEMPTS} attempts`);
    } catch (error) {
      for (const item of items) item.reject(error);
      return [];
    }
  }

  /**
   * Makes sure every guard has a known versionstamp and every counter a count valid under it,
   * reading only what the cache lacks (`verify`: and every guard, so that cached counts are
   * confirmed against KV); returns the idempotency answers found in KV.
   *
   * A group's guard is read in the same `getMany` (one snapshot) as its counters; small groups
   * share a `getMany` (10 keys).
   */
  async #load<T extends Counted>(groups: ShardGroup<T>[], verify = false): Promise<Loaded> {
    const guards = new Map<string, ShardState>();
    const answers = new Map<string, StoredAnswer>();
    const counts = new Map<string, number>();
    interface Need {
      g: ShardGroup<T>;
      state: ShardState | undefined;
      missing: Map<string, Deno.KvKey>;
      readAll: boolean;
    }
    let needs: Need[] = [];
    /** the ids of idempotency records among the keys read (the others are counters) */
    const idemIds = new Set<string>();
    for (const g of groups) {
      const state = this.#guard(g.guardId);
      const missing = new Map<string, Deno.KvKey>();
      for (const item of g.items) {
        const cached = this.#counts.get(item.counterId);
        if (state && cached && cached.epoch === state.epoch) {
          counts.set(item.counterId, cached.count);
        } else {
          missing.set(item.counterId, item.counterKey);
        }
        // Idempotency records are always read: another process may have written one.
        if (item.idemKey) {
          missing.set(item.idemId!, item.idemKey);
          idemIds.add(item.idemId!);
        }
      }
      if (state && missing.size === 0 && !verify) guards.set(g.guardId, state);
      else needs.push({ g, state, missing, readAll: false });
    }

    for (let tries = 0; needs.length > 0; tries++) {
      // Each need reads in units of [guard, ≤ 9 keys]; units are packed into getMany calls.
      const units = needs.flatMap((need) =>
        readUnits(need, need.g.guardKey, [...need.missing.values()])
      );
      const calls = packReads(units);
      const results = await Promise.all(
        calls.map((call) => this.#reads.getMany(call.flatMap((unit) => unit.keys))),
      );
      this.#stats.reads += calls.length;
      const read = new Map<Need, Deno.KvEntryMaybe<unknown>[][]>();
      calls.forEach((call, c) => {
        let at = 0;
        for (const unit of call) {
          const entries = results[c].slice(at, at + unit.keys.length);
          at += unit.keys.length;
          read.set(unit.need, [...read.get(unit.need) ?? [], entries]);
        }
      });

      const again: Need[] = [];
      for (const need of needs) {
        const reads = read.get(need)!;
        const stamp = reads[0][0].versionstamp;
        // Units read at different guard versions may mix counts from before and after a write.
        // (After MAX_ATTEMPTS it goes on: the commit's check then fails and the shard is re-read.)
        if (reads.some((r) => r[0].versionstamp !== stamp) && tries < MAX_ATTEMPTS) {
          again.push(need);
          continue;
        }
        const { g, state } = need;
        if (state && state.versionstamp !== stamp && !need.readAll) {
          // The guard moved since the cached counts were taken: read every counter of the group.
          for (const item of g.items) need.missing.set(item.counterId, item.counterKey);
          need.readAll = true;
          again.push(need);
          continue;
        }
        const epoch = state && state.versionstamp === stamp ? state.epoch : this.#nextEpoch++;
        guards.set(g.guardId, { versionstamp: stamp, epoch });
        this.#setGuard(g.guardId, { versionstamp: stamp, epoch });
        const now = this.#now();
        for (const entries of reads) {
          for (const entry of entries.slice(1)) {
            const id = idOf(entry.key);
            if (idemIds.has(id)) {
              const answer = entry.value as StoredAnswer | null;
              if (answer && answer.expiresAt > now) answers.set(id, answer);
            } else {
              const count = countOf(entry.value as StoredCount | null);
              counts.set(id, count);
              this.#remember(id, count, epoch);
            }
          }
        }
      }
      needs = again;
    }
    return { guards, answers, counts };
  }

  /**
   * The threshold notices `decide` needs: those of requests that `mayNotify` (a bound of their
   * count after them: the loaded count plus every amount of the batch on that counter up to them).
   * Cached notices valid under the guard's epoch cost nothing; the others are read with their
   * guard. `null` when a guard read here is not the one the counts were loaded under.
   */
  async #loadNotices(
    groups: ShardGroup<Pending>[],
    loaded: Loaded,
  ): Promise<Map<string, Notice | null> | null> {
    const notices = new Map<string, Notice | null>();
    let bounds: Map<string, number> | undefined;
    const missing: { g: ShardGroup<Pending>; keys: Map<string, Deno.KvKey> }[] = [];
    for (const g of groups) {
      const { epoch } = loaded.guards.get(g.guardId)!;
      let wanted: Map<string, Deno.KvKey> | undefined;
      for (const item of g.items) {
        const limit = item.req.limit;
        if (limit === null) continue;
        bounds ??= new Map();
        const bound = (bounds.get(item.counterId) ?? loaded.counts.get(item.counterId) ?? 0) +
          item.req.amount;
        bounds.set(item.counterId, bound);
        if (!mayNotify(limit, bound)) continue;
        if (item.noticeId === undefined) {
          const { platformId, period, userId, feature } = item.req;
          item.noticeKey = keys.usageNotice(platformId, period.key, userId, feature ?? "");
          item.noticeId = idOf(item.noticeKey);
        }
        const cached = this.#notices.get(item.noticeId);
        if (cached && cached.epoch === epoch) notices.set(item.noticeId, cached.notice);
        else (wanted ??= new Map()).set(item.noticeId, item.noticeKey!);
      }
      if (wanted) missing.push({ g, keys: wanted });
    }
    if (missing.length === 0) return notices;

    const units = missing.flatMap((m) => readUnits(m, m.g.guardKey, [...m.keys.values()]));
    const calls = packReads(units);
    const results = await Promise.all(
      calls.map((call) => this.#reads.getMany(call.flatMap((unit) => unit.keys))),
    );
    this.#stats.reads += calls.length;
    let moved = false;
    calls.forEach((call, c) => {
      let at = 0;
      for (const unit of call) {
        const entries = results[c].slice(at, at + unit.keys.length);
        at += unit.keys.length;
        const { g } = unit.need;
        const state = loaded.guards.get(g.guardId)!;
        if (entries[0].versionstamp !== state.versionstamp) {
          moved = true;
          this.#guards.delete(g.guardId);
          continue;
        }
        for (const entry of entries.slice(1)) {
          const id = idOf(entry.key);
          const notice = entry.value as Notice | null;
          notices.set(id, notice);
          this.#notices.set(id, { notice, epoch: state.epoch });
        }
      }
    });
    return moved ? null : notices;
  }

  /** After a failed check: reads the guards of that commit and forgets the shards that moved. */
  async #refreshGuards(groups: ShardGroup<Pending>[]): Promise<void> {
    const entries = await this.#reads.getMany(groups.map((g) => g.guardKey));
    this.#stats.reads++;
    groups.forEach((g, i) => {
      const state = this.#guards.get(g.guardId);
      if (!state || state.versionstamp !== entries[i].versionstamp) {
        this.#setGuard(g.guardId, {
          versionstamp: entries[i].versionstamp,
          epoch: this.#nextEpoch++,
        });
      }
    });
  }

  #guardOf(platformId: string, userId: string): { key: Deno.KvKey; id: string } {
    let guards = this.#guardKeys.get(platformId);
    if (!guards) {
      if (this.#guardKeys.size >= 10_000) this.#guardKeys.clear();
      guards = Array.from({ length: this.#shards }, (_, shard) => {
        const key = keys.usageShard(platformId, shard);
        return { key, id: idOf(key) };
      });
      this.#guardKeys.set(platformId, guards);
    }
    return guards[shardOf(userId, this.#shards)];
  }

  /** The known state of a guard, marked as recently used. */
  #guard(guardId: string): ShardState | undefined {
    return this.#guards.get(guardId);
  }

  /**
   * Forgetting a guard is always safe: without a known state its counters are read again under
   * a new epoch, so counts cached under the old one are never used.
   */
  #setGuard(guardId: string, state: ShardState): void {
    this.#guards.set(guardId, state);
  }

  #remember(counterId: string, count: number, epoch: number): void {
    // Updated in place: a new object per write would be promoted to V8's old space and die there.
    const known = this.#counts.get(counterId);
    if (known) {
      known.count = count;
      known.epoch = epoch;
      return;
    }
    this.#counts.set(counterId, { count, epoch });
  }
}

/** The counter a count or read is on: the end-user's main meter, or one feature's. */
function counterKeyOf(
  platformId: string,
  period: Period,
  userId: string,
  feature: string | undefined,
): Deno.KvKey {
  return feature === undefined
    ? keys.usage(platformId, period.key, userId)
    : keys.usageFeature(platformId, feature, period.key, userId);
}

/** What a decision's events and notices add to its commit. */
function eventsCost(decision: Decision<Pending>): CommitCost {
  let mutations = 0, keys = 0, bytes = 0;
  for (const { item } of decision.notices.values()) {
    const k = keyBytes(item.noticeKey!);
    mutations++, keys += k, bytes += k + NOTICE_BYTES;
  }
  const n = decision.events.length;
  return {
    mutations: mutations + n * QUEUE_EVENT_COST.mutations,
    keyBytes: keys + n * QUEUE_EVENT_COST.keyBytes,
    mutationBytes: bytes + n * QUEUE_EVENT_COST.mutationBytes,
  };
}

/** Raised for counts asked after `close()`. */
export class MeterClosedError extends Error {
  override name = "MeterClosedError";
}

/** The shard of `shards` an end-user's counters fall under (FNV-1a of the user id). */
export function shardOf(userId: string, shards: number): number {
  return fnv1a(userId) % shards;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
