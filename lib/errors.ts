/**
 * Every error code dream-api answers with, its HTTP status, and the one JSON envelope
 * `{"success":false,"error":{"code","message"}}` they travel in.
 */

import type { z } from "zod";

/** The code → status table. Add a code here before using it anywhere. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  subscription_required: 402,
  forbidden: 403,
  feature_not_included: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  stripe_not_connected: 409,
  payload_too_large: 413,
  stripe_rejected: 422,
  limit_exceeded: 429,
  internal: 500,
  stripe_error: 502,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** The error body every endpoint uses; `requestId` is the answer's `X-Request-Id`. */
export interface ErrorEnvelope {
  success: false;
  error: { code: ErrorCode; message: string; details?: unknown; requestId?: string };
}

/** Seconds a caller is asked to wait before retrying a 503 `unavailable` that names no other delay. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * An expected failure that the app's `onError` turns into the envelope. Every `unavailable` (503)
 * carries `Retry-After` (RFC 9110 §10.2.3): it is the code of faults a retry can cure.
 */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: ErrorStatus;
  readonly headers?: Record<string, string>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
    this.headers = code === "unavailable" && !hasRetryAfter(headers)
      ? { ...headers, "Retry-After": String(DEFAULT_RETRY_AFTER_SECONDS) }
      : headers;
  }
}

function hasRetryAfter(headers: Record<string, string> | undefined): boolean {
  return headers !== undefined &&
    Object.keys(headers).some((h) => h.toLowerCase() === "retry-after");
}

/** Builds the envelope for a code and message, with the request's id (every answer has one). */
export function errorBody(
  code: ErrorCode,
  message: string,
  details?: unknown,
  requestId?: string,
): ErrorEnvelope {
  const error: ErrorEnvelope["error"] = details === undefined
    ? { code, message }
    : { code, message, details };
  if (requestId !== undefined) error.requestId = requestId;
  return { success: false, error };
}

/** The one message for every authentication failure, so keys cannot be probed. */
export const UNAUTHORIZED_MESSAGE =
  "Missing or invalid API key. Send it as 'Authorization: Bearer dk_…'.";

/** The one message of every 500: what went wrong goes to the log, never to the caller. */
export const INTERNAL_MESSAGE = "Something went wrong on our side. Please retry.";

/** Zod's issues as `[{ path, message }]` (`path` dotted), for error details, the editor and the CLI. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

/**
 * The one 400 `invalid_request` for input zod refused: the first issue's message, prefixed with its
 * field (`amount: …`) unless the message names it already, and every issue in `details`. `brief`:
 * the message alone, without details (a header or a form, whose message says everything).
 * @example throw invalidRequest(parsed.error)
 */
export function invalidRequest(error: z.ZodError, options: { brief?: boolean } = {}): ApiError {
  const issue = error.issues[0];
  if (options.brief) return new ApiError("invalid_request", issue.message);
  const field = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  const message = issue.message.startsWith(field) ? issue.message : `${field}${issue.message}`;
  return new ApiError("invalid_request", message, issuesOf(error));
}
