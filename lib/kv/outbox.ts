/**
 * The outbox of founders' webhook events. An event is written here in the same atomic commit as
 * the change that caused it (the count that crosses a threshold, the plan change of a Stripe
 * event), so it exists exactly when its cause does: never lost if the process dies after the
 * commit, never written for a commit that failed. A delivery loop (lib/webhooks/) claims due
 * records with a lease and sends them; `kv.enqueue` is not used because Deno Deploy's current KV
 * and KV Connect (`denokv`) do not run queues.
 */
import { randomId } from "../encoding.ts";
import { keys } from "./keys.ts";
import type { CommitCost } from "./packing.ts";

/** The events founders can receive. */
export type FounderEventType =
  | "usage.near_limit"
  | "usage.limit_reached"
  | "subscription.updated"
  | "webhook.test";

/** An event as founders receive it (the JSON body of the delivery). */
export interface FounderEvent {
  type: FounderEventType;
  /** ISO 8601 time the event happened. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** A stored event and the state of its delivery. */
export interface OutboxRecord {
  /** `msg_…`: the `webhook-id` of every attempt, so founders can de-duplicate retries. */
  id: string;
  platformId: string;
  event: FounderEvent;
  /** ms since the epoch */
  createdAt: number;
  /** attempts made so far */
  attempts: number;
  /** ms since the epoch the next attempt is due (also the time in its `outboxDue` index key) */
  dueAt: number;
}

/** Upper bound of what `queueEvent` adds to a commit (for the meter's commit budget). */
export const QUEUE_EVENT_COST: CommitCost = { mutations: 2, keyBytes: 128, mutationBytes: 2048 };

/**
 * Adds an event to an atomic operation: the record and its due index, due at once. The caller
 * commits; the event exists if and only if that commit succeeds. Returns its id.
 */
export function queueEvent(
  op: Deno.AtomicOperation,
  platformId: string,
  event: FounderEvent,
  now: number,
): string {
  const id = randomId("msg", 26);
  const record: OutboxRecord = { id, platformId, event, createdAt: now, attempts: 0, dueAt: now };
  op.set(keys.outbox(id), record);
  op.set(keys.outboxDue(now, id), id);
  return id;
}

/** A record this process holds a lease on: the entry as claimed, for the checked writes that end the attempt. */
export interface ClaimedRecord {
  record: OutboxRecord;
  versionstamp: string;
}

/**
 * Ids of the records due at `now` (oldest due first), at most `limit`. Pointers only: a record is
 * attempted only once `claimDue` wins it, so listing costs nothing when another process is faster.
 */
export async function listDue(
  kv: Deno.Kv,
  now: number,
  limit: number,
): Promise<{ id: string; dueAt: number }[]> {
  const due: { id: string; dueAt: number }[] = [];
  const iter = kv.list<string>(
    { start: keys.outboxDueAll(), end: keys.outboxDue(now + 1, "") },
    { limit },
  );
  for await (const entry of iter) {
    due.push({ id: entry.value, dueAt: entry.key[1] as number });
  }
  return due;
}

/**
 * Claims a due record for one attempt, atomically: the record and its due index are checked, the
 * index moves to `now + leaseMs` and `attempts` goes up, in one commit. Of several processes
 * claiming the same record, exactly one wins; the others get `null`. If the winner dies mid-attempt,
 * the lease runs out and the record is due again, so an event outlives any process. A dangling
 * index (its record gone) is removed and answers `null`.
 */
export async function claimDue(
  kv: Deno.Kv,
  due: { id: string; dueAt: number },
  now: number,
  leaseMs: number,
): Promise<ClaimedRecord | null> {
  const indexKey = keys.outboxDue(due.dueAt, due.id);
  const [record, index] = await kv.getMany<[OutboxRecord, string]>([keys.outbox(due.id), indexKey]);
  if (index.versionstamp === null) return null;
  if (record.value === null || record.value.dueAt !== due.dueAt) {
    // The index outlived its record (or the record moved on): drop the pointer, if it still holds.
    await kv.atomic().check(index).delete(indexKey).commit();
    return null;
  }
  const leased: OutboxRecord = {
    ...record.value,
    attempts: record.value.attempts + 1,
    dueAt: now + leaseMs,
  };
  const result = await kv.atomic()
    .check(record)
    .check(index)
    .delete(indexKey)
    .set(keys.outboxDue(leased.dueAt, leased.id), leased.id)
    .set(keys.outbox(leased.id), leased)
    .commit();
  return result.ok ? { record: leased, versionstamp: result.versionstamp } : null;
}

/**
 * Ends a claimed record's life (delivered, given up, or dropped), with `alsoWrite` (the delivery
 * log's entry) in the same commit. Checked against the claim; if the lease ran out and another
 * process took the record meanwhile, the record is deleted all the same (this attempt succeeded or
 * ended it), with whichever due index it has now. Returns whether the claim still held.
 */
export async function finishClaimed(
  kv: Deno.Kv,
  claimed: ClaimedRecord,
  alsoWrite: (op: Deno.AtomicOperation) => void = () => {},
): Promise<boolean> {
  const { record } = claimed;
  const op = kv.atomic()
    .check({ key: keys.outbox(record.id), versionstamp: claimed.versionstamp })
    .delete(keys.outbox(record.id))
    .delete(keys.outboxDue(record.dueAt, record.id));
  alsoWrite(op);
  if ((await op.commit()).ok) return true;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await kv.get<OutboxRecord>(keys.outbox(record.id));
    const op = kv.atomic().check(current);
    if (current.value) {
      op.delete(keys.outbox(record.id)).delete(keys.outboxDue(current.value.dueAt, record.id));
    }
    alsoWrite(op);
    if ((await op.commit()).ok) return false;
  }
  return false;
}

/**
 * Schedules a claimed record's next attempt at `dueAt` (its index moves there), with `alsoWrite`
 * in the same commit. Returns `false`, writing nothing, when the claim no longer holds (another
 * process took the record after this lease ran out; it schedules it now).
 */
export async function rescheduleClaimed(
  kv: Deno.Kv,
  claimed: ClaimedRecord,
  dueAt: number,
  alsoWrite: (op: Deno.AtomicOperation) => void = () => {},
): Promise<boolean> {
  const { record } = claimed;
  const next: OutboxRecord = { ...record, dueAt };
  const op = kv.atomic()
    .check({ key: keys.outbox(record.id), versionstamp: claimed.versionstamp })
    .delete(keys.outboxDue(record.dueAt, record.id))
    .set(keys.outboxDue(dueAt, record.id), record.id)
    .set(keys.outbox(record.id), next);
  alsoWrite(op);
  return (await op.commit()).ok;
}
