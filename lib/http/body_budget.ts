/**
 * The process's memory budget for request bodies, and the deadline on reading them.
 *
 * Every body dream-api reads is buffered whole (webhooks must verify the exact bytes), so without
 * a bound a flood of large bodies exhausts the V8 heap and the process dies ("Fatal JavaScript out
 * of memory"): `deno task start` caps the heap at 96 MiB and 24 webhook bodies of 512 KiB were
 * enough. The budget caps the bytes buffered across all in-flight requests of this OS process;
 * past it a new body is refused at once with 503 `unavailable` and `Retry-After`.
 *
 * Sizing: a buffered body costs more heap than its length. The bytes arrive as chunks (kept until
 * read completes), are decoded to a string (one byte per character for ASCII, two otherwise),
 * and a webhook then encodes that again to verify its HMAC: about three times the body. So the
 * cap is an eighth of V8's heap limit (`heap_size_limit`): 13.5 MiB of bodies under `deno task
 * start` (108 MiB limit with `--max-old-space-size=96`), at most ~40 MiB of heap in flight,
 * leaving the rest to the app. A quarter of the cap is reserved for small bodies (at most
 * `MAX_BODY_BYTES`, the tenant API's and the dashboard's): large bodies (the webhooks') may use
 * only the other three quarters, so a flood of them cannot starve the tenant API.
 *
 * The deadline: a body that has not fully arrived `timeoutMs` after its read began is cancelled
 * and answered 408 with `Connection: close`, and its budget is given back. What
 * `Deno.serve` 2.9 cannot do is close the socket itself: while a read of the body is pending
 * in its Rust side, neither the cancel, nor `Connection: close`, nor a failing response body
 * ends the connection; it ends when the client sends or hangs up. Nor does it time out request
 * heads (hyper's header timeout needs a timer Deno does not set): a proxy in front must bound
 * both (README, Security).
 * One interval timer per process checks the reads in flight, so a read costs a `Set` add and
 * delete, not a timer of its own (a `setTimeout`/`clearTimeout` pair costs ~1.6 µs).
 */
import { getHeapStatistics } from "node:v8";
import { ApiError } from "../errors.ts";

/** How long a body may take to arrive, from the start of its read. */
export const BODY_TIMEOUT_MS = 30_000;

/** Checks per timeout: a stalled read ends between `timeoutMs` and `timeoutMs × 1.25`. */
const TICKS_PER_TIMEOUT = 4;

/** A body read in flight, watched by the deadline. */
export interface WatchedRead {
  /** The tick at which it started. */
  readonly start: number;
  /** Set when the deadline cancelled the read. */
  expired: boolean;
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
}

export interface BodyBudgetOptions {
  /** The most body bytes buffered at once in this process. */
  capacity: number;
  /** The part of `capacity` only small bodies (`MAX_BODY_BYTES`) may use. Default: a quarter. */
  reserved?: number;
  /** How long a body may take to arrive. Default `BODY_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/** The body budget and read deadline of one process (see the module comment). */
export class BodyBudget {
  /** Bytes taken now, across all requests. */
  used = 0;
  readonly capacity: number;
  readonly reserved: number;
  readonly timeoutMs: number;
  readonly #reads = new Set<WatchedRead>();
  #tick = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: BodyBudgetOptions) {
    this.capacity = options.capacity;
    this.reserved = options.reserved ?? Math.floor(options.capacity / 4);
    this.timeoutMs = options.timeoutMs ?? BODY_TIMEOUT_MS;
  }

  /**
   * Takes `bytes` for a body; `false` (and nothing taken) when they do not fit. Only `small`
   * bodies (a route limited to `MAX_BODY_BYTES`) may dip into the reserve.
   */
  take(bytes: number, small: boolean): boolean {
    const limit = small ? this.capacity : this.capacity - this.reserved;
    if (this.used + bytes > limit) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back what `take` took, once the request is done with its body. */
  release(bytes: number): void {
    this.used -= bytes;
  }

  /** Starts the deadline of a body read; `unwatch` it when the read ends, however it ends. */
  watch(reader: ReadableStreamDefaultReader<Uint8Array>): WatchedRead {
    if (this.#timer === undefined) this.#start();
    const read = { start: this.#tick, expired: false, reader };
    this.#reads.add(read);
    return read;
  }

  /** Ends the deadline of a body read. */
  unwatch(read: WatchedRead): void {
    this.#reads.delete(read);
  }

  /** Body reads in flight (for tests). */
  get reading(): number {
    return this.#reads.size;
  }

  #start() {
    // One timer for the process, unref'd: it never keeps the process (or a test) alive.
    const timer = setInterval(() => {
      const tick = ++this.#tick;
      for (const read of this.#reads) {
        if (tick - read.start <= TICKS_PER_TIMEOUT) continue;
        this.#reads.delete(read);
        read.expired = true;
        read.reader.cancel(new Error("request body timed out")).catch(() => {});
      }
    }, Math.max(1, Math.ceil(this.timeoutMs / TICKS_PER_TIMEOUT)));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}

/**
 * The budget for this process: an eighth of V8's heap limit, a quarter of it reserved for small
 * bodies (see the module comment for why).
 */
export function bodyBudgetFromHeap(
  heapLimit = getHeapStatistics().heap_size_limit,
  options: { timeoutMs?: number } = {},
): BodyBudget {
  return new BodyBudget({ capacity: Math.floor(heapLimit / 8), ...options });
}

/** The 503 of a body that does not fit in the budget now. */
export function bodyBudgetExhausted(): ApiError {
  return new ApiError(
    "unavailable",
    "The server is reading too many request bodies at once; retry in a moment.",
  );
}

/** The 408 of a body that did not arrive in time. */
export function bodyTimedOut(timeoutMs: number): ApiError {
  const within = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  // The connection cannot carry another request: what is left of this body would be read as one.
  return new ApiError(
    "request_timeout",
    `The request body did not arrive within ${within}.`,
    undefined,
    { Connection: "close" },
  );
}
