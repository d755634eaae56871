/**
 * The meter's decision, pure: given the committed counts, the stored idempotency answers and the
 * requests in arrival order, who is granted and what each is answered. No KV, no clock, no cache:
 * the meter loads the state, calls `decide`, and commits what it returns.
 */
import { hash64 } from "../hash.ts";
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
  /**
   * The metered feature counted (its own counter, `keys.usageFeature`); absent: the tier's main
   * meter (`keys.usage`). `limit` and `period` are then the feature's.
   */
  feature?: string;
}

/**
 * What a count answered; `replayed` when it is the stored first answer of an idempotency key;
 * `conflict` when that key's first answer was to another request (see `countFingerprint`): then
 * nothing was counted and the other fields are the first answer's, for information only.
 */
export interface CountResult {
  ok: boolean;
  replayed: boolean;
  count: number;
  limit: number | null;
  plan: string;
  period: { start: string; end: string };
  conflict?: true;
}

/**
 * A request as `beforeCommit` sees it: granted (`ok`) or refused, and the end-user's committed count
 * before it (0 before the first units of the period). Idempotent replays are not decided again.
 */
export interface DecidedRequest {
  req: CountRequest;
  ok: boolean;
  before: number;
}

/** How long a granted idempotency key answers its repeats. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A granted idempotent count's first answer, as stored under its key. */
export interface StoredAnswer extends CountResult {
  expiresAt: number;
  /** `countFingerprint` of the request answered (records of earlier versions have none). */
  fp?: string;
}

/**
 * The threshold events sent for one counter (an end-user's main meter or one feature, in one
 * period): the limits at which `usage.near_limit` and `usage.limit_reached` were sent, so each is
 * sent at most once per limit, and again when a plan change brings another limit. Stored under
 * `keys.usageNotice`, written only with an event; the most recent `NOTICE_LIMITS` limits of each.
 */
export interface Notice {
  near: number[];
  reached: number[];
}

/** How many limits a notice remembers per event type (plans rarely change twice in a period). */
export const NOTICE_LIMITS = 8;

/** A threshold event decided: its type and the usage it reports (the count after the call). */
export interface ThresholdEvent<T> {
  item: T;
  type: "usage.near_limit" | "usage.limit_reached";
  count: number;
}

/**
 * The count from which `usage.near_limit` is due: 80 % of `limit`, rounded up (in integers:
 * `0.8 * 15` is 12.000000000000002 in floating point).
 */
export function nearThreshold(limit: number): number {
  return limit - Math.floor(limit / 5);
}

/**
 * Whether a request may reach a threshold, given an upper bound of its counter after it (the count
 * before the batch plus every amount of the batch on that counter up to it): only then does the
 * meter need its `Notice`. A refused request always may (it needs more than the limit).
 */
export function mayNotify(limit: number | null, countBound: number): boolean {
  return limit !== null && countBound >= nearThreshold(limit);
}

/** What `decide` reads of a request. */
export interface Decidable {
  req: CountRequest;
  /** The id of the end-user's counter in the request's period. */
  counterId: string;
  /** The id of the request's idempotency record, for requests with an idempotency key. */
  idemId: string | undefined;
  /** `countFingerprint(req)`, for requests with an idempotency key. */
  fingerprint: string | undefined;
  /** The id of the counter's `Notice` (threshold events); absent: no events for this request. */
  noticeId?: string;
}

/** What to commit and answer, for a batch of requests `T`. */
export interface Decision<T> {
  /** counter id → the new count (the last request of that counter granted) */
  writes: Map<string, { item: T; count: number }>;
  /** first answers of granted idempotency keys, to store */
  answers: { item: T; answer: StoredAnswer }[];
  /** every request with its answer, in arrival order */
  results: [T, CountResult][];
  /** the requests decided (granted or refused; not replays nor conflicts) */
  decided: DecidedRequest[];
  /** threshold events to queue with this commit, in arrival order */
  events: ThresholdEvent<T>[];
  /** notice id → the notice to store with them (the last request of that counter to send one) */
  notices: Map<string, { item: T; notice: Notice }>;
}

/**
 * Grants in arrival order while the limit allows. A granted idempotency key answers its repeats
 * (in this batch too) when they are the same request (fingerprint), and is a conflict for any
 * other; a refusal counted nothing, so it is not remembered and a repeat is decided afresh, as it
 * would be in a later batch.
 *
 * `counts` (counter id → committed count; missing is 0) and `stored` (idempotency id → unexpired
 * first answer) are the batch's running state: they are updated in place with what it grants.
 *
 * Threshold events, for requests with a `noticeId` and a finite limit: `usage.near_limit` when a
 * granted request leaves the count at or above `nearThreshold(limit)`, and `usage.limit_reached`
 * when one leaves nothing remaining or, failing that, on a refusal; each only when its notice
 * does not hold that limit yet. `notices` (notice id → stored notice, `null` for none) must hold
 * the notice of every request that `mayNotify` (one missing sends nothing); it is updated in
 * place, like `counts`. A request below the threshold never looks at it, so the meter reads
 * notices only near the limit.
 *
 * @example decide([{ req, counterId: "u", idemId: undefined, fingerprint: undefined }], new Map([["u", 9]]), new Map(), now, boundsOf)
 */
export function decide<T extends Decidable>(
  items: readonly T[],
  counts: Map<string, number>,
  stored: Map<string, StoredAnswer>,
  now: number,
  boundsOf: (period: Period) => { start: string; end: string },
  notices: Map<string, Notice | null> = new Map(),
): Decision<T> {
  const writes = new Map<string, { item: T; count: number }>();
  const answers: { item: T; answer: StoredAnswer }[] = [];
  const results: [T, CountResult][] = [];
  const decided: DecidedRequest[] = [];
  const events: ThresholdEvent<T>[] = [];
  const noticeWrites = new Map<string, { item: T; notice: Notice }>();

  for (const item of items) {
    const { req, idemId } = item;
    if (idemId !== undefined) {
      const earlier = stored.get(idemId);
      if (earlier) {
        // A record without a fingerprint (written before they were) replays, as it did then.
        const same = earlier.fp === undefined || earlier.fp === item.fingerprint;
        const answer = stripRecord(earlier);
        results.push([
          item,
          same ? { ...answer, replayed: true } : { ...answer, ok: false, conflict: true },
        ]);
        continue;
      }
    }
    const before = counts.get(item.counterId) ?? 0;
    const fits = req.limit === null || before + req.amount <= req.limit;
    const count = fits ? before + req.amount : before;
    const result: CountResult = {
      ok: fits,
      replayed: false,
      count,
      limit: req.limit,
      plan: req.plan,
      period: boundsOf(req.period),
    };
    if (fits) {
      counts.set(item.counterId, count);
      writes.set(item.counterId, { item, count });
      if (idemId !== undefined) {
        const answer = {
          ...result,
          expiresAt: now + IDEMPOTENCY_TTL_MS,
          fp: item.fingerprint,
        };
        stored.set(idemId, answer);
        answers.push({ item, answer });
      }
    }
    decided.push({ req, ok: fits, before });
    results.push([item, result]);
    if (item.noticeId !== undefined && req.limit !== null) {
      const limit = req.limit;
      const near = fits && count >= nearThreshold(limit);
      const reached = fits ? count === limit : true;
      // The common case: far from the limit, nothing to look at.
      if (!near && !reached) continue;
      // Not loaded: the meter loads every notice a request may need (`mayNotify`); sending
      // without it could send twice, so nothing is sent.
      if (!notices.has(item.noticeId)) continue;
      const known = notices.get(item.noticeId) ?? null;
      const sendNear = near && !known?.near.includes(limit);
      const sendReached = reached && !known?.reached.includes(limit);
      if (!sendNear && !sendReached) continue;
      const notice: Notice = {
        near: sendNear ? remembered(known?.near, limit) : known?.near ?? [],
        reached: sendReached ? remembered(known?.reached, limit) : known?.reached ?? [],
      };
      notices.set(item.noticeId, notice);
      noticeWrites.set(item.noticeId, { item, notice });
      if (sendNear) events.push({ item, type: "usage.near_limit", count });
      if (sendReached) events.push({ item, type: "usage.limit_reached", count });
    }
  }
  return { writes, answers, results, decided, events, notices: noticeWrites };
}

/** `limits` with `limit` added, keeping the most recent `NOTICE_LIMITS`. */
function remembered(limits: readonly number[] | undefined, limit: number): number[] {
  return [...(limits ?? []), limit].slice(-NOTICE_LIMITS);
}

function stripRecord({ expiresAt: _, fp: _fp, ...answer }: StoredAnswer): CountResult {
  return answer;
}

/**
 * What an idempotency record is bound to: every field of a count that changes what it counts
 * (platform, end-user, amount, and the feature when one is named). A key reused with a request of
 * another fingerprint is a conflict, never a replay. A field that comes to change what is counted
 * joins the list only when set (as `feature` did), so records written before it keep matching
 * their repeats. Stored (16 hex digits)
 * and compared by other processes and later versions: the function must never change for the
 * fields it covers. A 64-bit non-cryptographic hash: only a tenant's own requests, under one of
 * their own keys, could collide, and a collision is a replay, as before fingerprints.
 */
export function countFingerprint(
  req: Pick<CountRequest, "platformId" | "userId" | "amount" | "feature">,
): string {
  const parts = [req.platformId, req.userId, String(req.amount)];
  if (req.feature !== undefined) parts.push(req.feature);
  return hash64(parts);
}
