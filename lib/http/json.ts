/** JSON responses for code that answers without Hono's Context (the same bytes as `c.json`). */
import { ApiError, errorBody, INTERNAL_MESSAGE } from "../errors.ts";
import { isStorageFault } from "../kv/open.ts";
import type { Logger } from "../log.ts";

const CONTENT_TYPE = "content-type";
const JSON_TYPE = "application/json";

/** `body` as JSON with `status` and extra `headers` (a fresh object: the response takes it). */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  headers[CONTENT_TYPE] = JSON_TYPE;
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * The one envelope answer to anything thrown, carrying the request's id: an `ApiError` with its
 * status and headers; anything else is passed to `unexpected` (to be logged) and answered 500
 * without details, except a storage fault (disk full, I/O error, KV locked or closed), which a
 * retry can cure: 503 `unavailable` with Retry-After.
 */
export function errorResponse(
  error: unknown,
  unexpected: (error: unknown) => void,
  requestId: string,
): Response {
  if (!(error instanceof ApiError) && isStorageFault(error)) {
    unexpected(error);
    error = new ApiError("unavailable", STORAGE_MESSAGE);
  }
  if (error instanceof ApiError) {
    return jsonResponse(
      errorBody(error.code, error.message, error.details, requestId),
      error.status,
      { ...error.headers },
    );
  }
  unexpected(error);
  return jsonResponse(errorBody("internal", INTERNAL_MESSAGE, undefined, requestId), 500);
}

/** The message of a 503 for a storage fault: what failed goes to the log only. */
const STORAGE_MESSAGE = "Storage cannot write at the moment; retry shortly.";

/**
 * The one log line of an unexpected error (what a 500 hides from the caller), with the request's
 * method, path and id so that a founder quoting the id finds it.
 */
export function logUnexpected(
  log: Logger,
  request: { method: string; path: string; requestId: string },
): (error: unknown) => void {
  return (error) => log.log("error", "unhandled error", { ...request, error });
}
