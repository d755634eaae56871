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

/** What `decide` reads of a request. */
export interface Decidable {
  req: CountRequest;
  /** The id of the end-user's counter in the request's period. */
  counterId: string;
  /** The id of the request's idempotency record, for requests with an idempotency key. */
  idemId: string | undefined;
  /** `countFingerprint(req)`, for requests with an idempotency key. */
  fingerprint: string | undefined;
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
 * @example decide([{ req, counterId: "u", idemId: undefined, fingerprint: undefined }], new Map([["u", 9]]), new Map(), now, boundsOf)
 */
export function decide<T extends Decidable>(
  items: readonly T[],
  counts: Map<string, number>,
  stored: Map<string, StoredAnswer>,
  now: number,
  boundsOf: (period: Period) => { start: string; end: string },
): Decision<T> {
  const writes = new Map<string, { item: T; count: number }>();
  const answers: { item: T; answer: StoredAnswer }[] = [];
  const results: [T, CountResult][] = [];
  const decided: DecidedRequest[] = [];

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
  }
  return { writes, answers, results, decided };
}

function stripRecord({ expiresAt: _, fp: _fp, ...answer }: StoredAnswer): CountResult {
  return answer;
}

/**
 * What an idempotency record is bound to: every field of a count that changes what it counts
 * (platform, end-user, amount). A key reused with a request of another fingerprint is a conflict,
 * never a replay. A field that comes to change what is counted (a `feature`, say) joins the list
 * only when set, so records written before it keep matching their repeats. Stored (16 hex digits)
 * and compared by other processes and later versions: the function must never change for the
 * fields it covers. A 64-bit non-cryptographic hash: only a tenant's own requests, under one of
 * their own keys, could collide, and a collision is a replay, as before fingerprints.
 */
export function countFingerprint(
  req: Pick<CountRequest, "platformId" | "userId" | "amount">,
): string {
  return hash64([req.platformId, req.userId, String(req.amount)]);
}
