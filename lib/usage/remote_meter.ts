/**
 * The meter across isolates: with WORKERS > 1, one isolate owns the `UsageMeter` (its caches, its
 * batches, its commits) and the HTTP isolates ask it over their message channel. Every count on the
 * machine then goes through one meter, so its group commit and its cached counts stay as exact and
 * as cheap as in one process, and the isolates never contend for the KV file's write lock. The HTTP
 * work (parsing, auth, JSON, headers) is what spreads over the cores.
 *
 * Only counts travel. Reads stay in the HTTP isolate, on a meter of its own that never counts: a
 * read is exact from anywhere (it takes the shard's guard and counters in one snapshot), so usage
 * reads spread over the cores like the HTTP work.
 *
 * Counts made in one turn of an isolate's event loop travel as one message, and answers settled
 * together travel back as one: under load a message carries a batch, not a request. Both are flat
 * tuples of primitives, the cheapest shape for structured cloning.
 */
import type { CountRequest, CountResult, Meter } from "./meter.ts";
import { MeterClosedError } from "./meter.ts";
import { type Period, type PeriodBounds, periodBoundsMemo } from "./period.ts";

/** What both ends need of a channel (a `Worker`, the worker's `self`, a `MessagePort`). */
export interface MeterChannel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

/**
 * A count as it travels:
 * `[id, platformId, userId, plan, periodKey, startMs, endMs, limit, amount, idempotencyKey, feature]`
 * (absent fields `null`).
 */
type Call = [
  number,
  string,
  string,
  string,
  string,
  number,
  number,
  number | null,
  number,
  string | null,
  string | null,
];

/**
 * An answer: `[id, ok, replayed, count, limit, plan, conflict, period]`, or
 * `[id, null, message, errorName]` when the count failed. `period` is `null` when it is the
 * request's own (a stored first answer, replayed or in conflict, carries the one it was given).
 */
type Answer =
  | [number, boolean, boolean, number, number | null, string, boolean, PeriodBounds | null]
  | [number, null, string, string];

/** The messages of the meter's protocol (other messages on the channel are left alone). */
interface CallsMessage {
  t: "meter.calls";
  calls: Call[];
}
interface AnswersMessage {
  t: "meter.answers";
  answers: Answer[];
}

interface Waiting {
  period: Period;
  resolve: (result: CountResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The meter of an HTTP isolate: each count goes to the isolate that owns the real meter
 * (`serveMeter`) and resolves or rejects as the real one did; reads go to `reads`, this isolate's
 * own meter (one that never counts).
 * @example const meter = new RemoteMeter(self, new UsageMeter(kv, { reads })); // in host.ts's isolate
 */
export class RemoteMeter implements Meter {
  readonly #channel: MeterChannel;
  readonly #reads: Meter;
  readonly #waiting = new Map<number, Waiting>();
  /** a period's ISO bounds, as answered */
  readonly #boundsOf = periodBoundsMemo();
  #outgoing: Call[] = [];
  /** counts sent and not answered yet */
  #sent = 0;
  #nextId = 1;
  #closed = false;
  #drained: (() => void) | null = null;

  constructor(channel: MeterChannel, reads: Meter) {
    this.#channel = channel;
    this.#reads = reads;
    channel.addEventListener("message", (event) => {
      const data = event.data as AnswersMessage | undefined;
      if (data?.t === "meter.answers") this.#settle(data.answers);
    });
  }

  count(req: CountRequest): Promise<CountResult> {
    if (this.#closed) return Promise.reject(new MeterClosedError());
    const id = this.#nextId++;
    const { period } = req;
    // Like the meter's group commit: while counts are on their way, the next ones gather.
    if (this.#outgoing.length === 0 && this.#sent === 0) queueMicrotask(this.#flush);
    this.#outgoing.push([
      id,
      req.platformId,
      req.userId,
      req.plan,
      period.key,
      period.start.getTime(),
      period.end.getTime(),
      req.limit,
      req.amount,
      req.idempotencyKey ?? null,
      req.feature ?? null,
    ]);
    return new Promise((resolve, reject) => this.#waiting.set(id, { period, resolve, reject }));
  }

  read(platformId: string, period: Period, userId: string, feature?: string): Promise<number> {
    return this.#reads.read(platformId, period, userId, feature);
  }

  /** Takes no more counts; resolves once every count already made has its answer. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#waiting.size > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    await this.#reads.close();
  }

  /** Counts waiting for their answer (for tests). */
  get pending(): number {
    return this.#waiting.size;
  }

  readonly #flush = () => {
    const calls = this.#outgoing;
    if (calls.length === 0) return;
    this.#outgoing = [];
    this.#sent += calls.length;
    this.#channel.postMessage({ t: "meter.calls", calls } satisfies CallsMessage);
  };

  #settle(answers: Answer[]): void {
    for (const answer of answers) {
      const waiting = this.#waiting.get(answer[0]);
      if (!waiting) continue;
      this.#waiting.delete(answer[0]);
      this.#sent--;
      if (answer[1] === null) {
        waiting.reject(rebuildError(answer[2], answer[3]));
        continue;
      }
      const result: CountResult = {
        ok: answer[1],
        replayed: answer[2],
        count: answer[3],
        limit: answer[4],
        plan: answer[5],
        period: answer[7] ?? this.#boundsOf(waiting.period),
      };
      if (answer[6]) result.conflict = true;
      waiting.resolve(result);
    }
    if (this.#sent === 0) this.#flush();
    if (this.#closed && this.#waiting.size === 0) this.#drained?.();
  }
}

/**
 * Answers an HTTP isolate's counts with the real `meter`: they join its batches like the process's
 * own. Answers settled in one turn go back in one message.
 * @example serveMeter(worker, meter);
 */
export function serveMeter(channel: MeterChannel, meter: Pick<Meter, "count">): void {
  let outgoing: Answer[] = [];
  const flush = () => {
    const answers = outgoing;
    outgoing = [];
    channel.postMessage({ t: "meter.answers", answers } satisfies AnswersMessage);
  };
  const answer = (a: Answer) => {
    if (outgoing.length === 0) queueMicrotask(flush);
    outgoing.push(a);
  };
  const periods = new Map<string, Period>();
  const periodOf = (key: string, start: number, end: number): Period => {
    let period = periods.get(key);
    if (!period || period.start.getTime() !== start || period.end.getTime() !== end) {
      if (periods.size >= 64) periods.clear();
      period = { key, start: new Date(start), end: new Date(end) };
      periods.set(key, period);
    }
    return period;
  };
  channel.addEventListener("message", (event) => {
    const data = event.data as CallsMessage | undefined;
    if (data?.t !== "meter.calls") return;
    for (const call of data.calls) {
      const id = call[0];
      const req: CountRequest = {
        platformId: call[1],
        userId: call[2],
        plan: call[3],
        period: periodOf(call[4], call[5], call[6]),
        limit: call[7],
        amount: call[8],
      };
      if (call[9] !== null) req.idempotencyKey = call[9];
      if (call[10] !== null) req.feature = call[10];
      meter.count(req).then(
        (r) => {
          const stored = r.replayed || r.conflict === true;
          answer([
            id,
            r.ok,
            r.replayed,
            r.count,
            r.limit,
            r.plan,
            r.conflict === true,
            stored ? { start: r.period.start, end: r.period.end } : null,
          ]);
        },
        (error) => {
          const e = error instanceof Error ? error : new Error(String(error));
          answer([id, null, e.message, e.name]);
        },
      );
    }
  });
}

/**
 * The error an HTTP isolate rethrows: a closed meter as `MeterClosedError`, anything else as an
 * `Error` with the same message and name, which is what the error handler reads (a storage fault is
 * known by its message or as a closed resource, and answered 503).
 */
function rebuildError(message: string, name: string): Error {
  if (name === "MeterClosedError") return new MeterClosedError();
  if (name === "BadResource") return new Deno.errors.BadResource(message);
  const error = new Error(message);
  error.name = name;
  return error;
}
