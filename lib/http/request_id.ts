/**
 * Request ids: every answer carries `X-Request-Id`, every error envelope `error.requestId`, and the
 * log line of a 500 the same id, so a founder can quote one and we can find what happened.
 *
 * A well-formed incoming id (a proxy's or the caller's own) is kept, so one id follows a call
 * through every hop; anything else is replaced. Generated ids are a random per-process prefix and
 * a counter: unique across processes without a `crypto.randomUUID()` per request on the hot path.
 */

/** The header, as `Headers` spells it. */
export const REQUEST_ID_HEADER = "x-request-id";

/** 1–128 characters of letters, digits, `.`, `_`, `:` and `-`: safe in headers, logs and JSON. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Ten base-36 characters from 50 random bits: collisions across processes are negligible. */
const PREFIX = (() => {
  const [a, b] = crypto.getRandomValues(new Uint32Array(2));
  return ((a % 2 ** 18) * 2 ** 32 + b).toString(36).padStart(10, "0").slice(-10) + "-";
})();
let counter = 0;

/** Whether `value` may be kept as a request id. */
export function isRequestId(value: string): boolean {
  return WELL_FORMED.test(value);
}

/** The id of a request: its own `X-Request-Id` when well formed, else a new one. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && WELL_FORMED.test(incoming) ? incoming : PREFIX + (++counter).toString(36);
}
