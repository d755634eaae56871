/**
 * dream-api's typed client for the tenant API. No dependencies beyond `fetch`: it runs on Deno,
 * Node 20+, Bun, Cloudflare Workers and other edge runtimes.
 *
 * @example
 * ```ts
 * import { DreamApi, LimitExceededError } from "./dream_api.ts";
 *
 * const dream = new DreamApi({ apiKey: process.env.DREAM_API_KEY!, baseUrl: "https://dream-api.example" });
 * try {
 *   const { usage } = await dream.track("user_123");
 *   console.log(`${usage.count} of ${usage.limit ?? "∞"} used`);
 * } catch (error) {
 *   if (error instanceof LimitExceededError) console.log(`Over the limit; resets in ${error.retryAfter} s`);
 *   else throw error;
 * }
 * ```
 *
 * Features: `track(userId, { feature: "exports" })` counts against a metered feature of the plan,
 * `check(userId, { feature })` asks whether a call would be allowed (counting nothing), and
 * `usage()` lists every feature of the end-user's plan.
 *
 * Retries: `track`, `createCheckout` and `customerPortal` always send an `Idempotency-Key` (yours,
 * or a fresh `crypto.randomUUID()`), so a retry after a lost answer returns the first answer and
 * never counts or creates twice; `usage` and `check` are GETs. All are retried on network errors
 * and 5xx answers, with exponential backoff and full jitter. 4xx answers (including 429) are never
 * retried.
 *
 * @module
 */

/** The end-user's usage in the current period; `limit`/`remaining` are `null` when unlimited. */
export interface Usage {
  count: number;
  limit: number | null;
  remaining: number | null;
}

/** The current period, `[start, end)`, as ISO 8601 UTC timestamps. */
export interface Period {
  start: string;
  end: string;
}

/** An on/off feature of the end-user's plan. */
export interface SwitchState {
  enabled: boolean;
}

/** Which rule chose the plan: a Stripe subscription, the `plan` you sent, or the default tier. */
export type PlanSource = "subscription" | "header" | "default";

/** What the `RateLimit-*` headers said; `null` where absent (unlimited plans). */
export interface RateLimit {
  limit: number | null;
  remaining: number | null;
  /** Seconds until the period ends. */
  reset: number | null;
}

/** The answer of `usage()`. */
export interface UsageResult {
  usage: Usage;
  /** The tier id the end-user is on. */
  plan: string;
  planSource: PlanSource;
  period: Period;
  /** The feature counted or read; absent for the plan's main meter. */
  feature?: string;
  /** `usage()`: every feature of the end-user's plan (when it declares features). */
  features?: Record<string, Usage | SwitchState>;
  rateLimit: RateLimit;
}

/** The answer of `track()`. */
export interface TrackResult extends UsageResult {
  /** The key this call was made with (yours, or the generated one). */
  idempotencyKey: string;
  /** `true` when the server returned the stored answer of an earlier call with this key. */
  replayed: boolean;
}

/** The answer of `check()`: whether the call would be allowed now (nothing was counted). */
export interface CheckResult {
  allowed: boolean;
  /** The feature checked; `null` for the plan's main meter. */
  feature: string | null;
  /** The end-user's tier id. */
  plan: string;
  /** The usage as it stands, for metered checks. */
  usage?: Usage;
}

/** The answer of `createCheckout()`: send the end-user's browser to `url`. */
export interface CheckoutResult {
  url: string;
  sessionId: string;
}

/** The answer of `customerPortal()`: send the end-user's browser to `url`. */
export interface PortalResult {
  url: string;
}

/** The error codes the API answers with (see `/docs`), plus the client's own `network_error`. */
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "subscription_required"
  | "forbidden"
  | "feature_not_included"
  | "not_found"
  | "method_not_allowed"
  | "request_timeout"
  | "conflict"
  | "stripe_not_connected"
  | "payload_too_large"
  | "stripe_rejected"
  | "limit_exceeded"
  | "internal"
  | "stripe_error"
  | "unavailable"
  | "network_error"
  // An answer that was not dream-api's JSON (a proxy's error page, say): `http_<status>`.
  | `http_${number}`;

/** Any failure of a call: an error answer of the API, or (status 0) no answer at all. */
export class DreamApiError extends Error {
  override name = "DreamApiError";
  /** The HTTP status; 0 when no answer arrived (`network_error`). */
  readonly status: number;
  readonly code: ErrorCode;
  /** Field-level problems, when the body failed validation. */
  readonly details?: unknown;
  /** The answer's request id (`error.requestId`, the X-Request-Id header): quote it to support. */
  readonly requestId?: string;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    details?: unknown,
    options?: { cause?: unknown; requestId?: string },
  ) {
    super(message, options);
    this.status = status;
    this.code = code;
    if (details !== undefined) this.details = details;
    if (options?.requestId !== undefined) this.requestId = options.requestId;
  }
}

/** 429 from `track`: the amount does not fit in the end-user's limit; nothing was counted. */
export class LimitExceededError extends DreamApiError {
  override name = "LimitExceededError";
  /** The usage as it stands (the refused amount is not in it). */
  readonly usage: Usage;
  readonly plan: string;
  readonly planSource: PlanSource;
  readonly period: Period;
  /** Seconds until the period ends and the limit frees up (the `Retry-After` header). */
  readonly retryAfter: number;
  /** The feature whose limit was reached; absent for the plan's main meter. */
  readonly feature?: string;

  constructor(
    message: string,
    fields: {
      usage: Usage;
      plan: string;
      planSource: PlanSource;
      period: Period;
      retryAfter: number;
      feature?: string;
    },
  ) {
    super(429, "limit_exceeded", message);
    this.usage = fields.usage;
    this.plan = fields.plan;
    this.planSource = fields.planSource;
    this.period = fields.period;
    this.retryAfter = fields.retryAfter;
    if (fields.feature !== undefined) this.feature = fields.feature;
  }
}

/** 403 from `track`/`usage`: the end-user's plan does not include the feature; offer `upgradeTo`. */
export class FeatureNotIncludedError extends DreamApiError {
  override name = "FeatureNotIncludedError";
  readonly feature: string;
  /** The end-user's tier id. */
  readonly plan: string;
  /** The cheapest tier that includes the feature; `null` when none does. */
  readonly upgradeTo: string | null;

  constructor(
    message: string,
    details: { feature: string; plan: string; upgradeTo: string | null },
    requestId?: string,
  ) {
    super(403, "feature_not_included", message, details, { requestId });
    this.feature = details.feature;
    this.plan = details.plan;
    this.upgradeTo = details.upgradeTo;
  }
}

export interface DreamApiOptions {
  /** Your secret API key (`dk_live_…` or `dk_test_…`). Keep it on your server. */
  apiKey: string;
  /** Where dream-api runs, e.g. `https://dream-api.example`. */
  baseUrl: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /** Retries after the first attempt, on network errors and 5xx. Default 3; 0 disables. */
  maxRetries?: number;
  /** The first backoff step in ms; step n waits a random time up to `min(max, base·2ⁿ)`. Default 200. */
  retryBaseMs?: number;
  /** The longest wait between attempts in ms. Default 5000. */
  retryMaxMs?: number;
  /** Abandon (and retry) an attempt after this many ms. Default 10000. */
  timeoutMs?: number;
}

export interface TrackOptions {
  /** Units to count, an integer from 1 to 1,000,000. Default 1. */
  amount?: number;
  /** A tier id, used when the end-user has no active Stripe subscription. Default: your default tier. */
  plan?: string;
  /** Makes the call safe to repeat for 24 h; generated with `crypto.randomUUID()` when omitted. */
  idempotencyKey?: string;
  /** A metered feature of the plan to count against instead of its main meter. */
  feature?: string;
  signal?: AbortSignal;
}

export interface UsageOptions {
  plan?: string;
  /** Answer this metered feature's usage as `usage` (every feature is in `features` anyway). */
  feature?: string;
  signal?: AbortSignal;
}

export interface CheckOptions {
  /** The feature to check (metered or on/off); default: the plan's main meter. */
  feature?: string;
  /** Units the call would count, an integer from 1 to 1,000,000. Default 1. */
  amount?: number;
  plan?: string;
  signal?: AbortSignal;
}

export interface CheckoutOptions {
  /** The id of a paid tier, synced to your Stripe account. */
  tier: string;
  /** Where Stripe sends the end-user after paying (absolute http(s) URL). */
  successUrl: string;
  /** Where Stripe sends the end-user when they go back. */
  cancelUrl: string;
  /** Prefills Checkout for an end-user Stripe does not know yet. */
  email?: string;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface PortalOptions {
  /** Where the portal's "back" link goes. */
  returnUrl: string;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

interface Call {
  method: "GET" | "POST";
  path: string;
  userId: string;
  plan?: string;
  idempotencyKey?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** A client for one platform's API key. Safe to share across requests. */
export class DreamApi {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #timeoutMs: number;

  constructor(options: DreamApiOptions) {
    if (!options?.apiKey) throw new TypeError("DreamApi: apiKey is required");
    if (!options.baseUrl) throw new TypeError("DreamApi: baseUrl is required");
    this.#apiKey = options.apiKey;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    // Bound, so runtimes whose fetch needs `this === globalThis` (browsers, workers) accept it.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#maxRetries = Math.max(0, options.maxRetries ?? 3);
    this.#retryBaseMs = options.retryBaseMs ?? 200;
    this.#retryMaxMs = options.retryMaxMs ?? 5000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Counts `amount` units (default 1) for `userId` in the current period.
   * @throws {LimitExceededError} when the amount does not fit; nothing was counted.
   * @throws {DreamApiError} for any other failure.
   */
  async track(userId: string, options: TrackOptions = {}): Promise<TrackResult> {
    const idempotencyKey = options.idempotencyKey ?? crypto.randomUUID();
    const { body, headers } = await this.#call({
      method: "POST",
      path: "/api/data",
      userId,
      plan: options.plan,
      idempotencyKey,
      body: {
        ...(options.amount === undefined ? {} : { amount: options.amount }),
        ...(options.feature === undefined ? {} : { feature: options.feature }),
      },
      signal: options.signal,
    });
    return {
      ...usageResult(body, headers),
      idempotencyKey,
      replayed: headers.get("idempotent-replayed") === "true",
    };
  }

  /** The end-user's usage this period, without counting. */
  async usage(userId: string, options: UsageOptions = {}): Promise<UsageResult> {
    const { body, headers } = await this.#call({
      method: "GET",
      path: `/api/usage${queryOf({ feature: options.feature })}`,
      userId,
      plan: options.plan,
      signal: options.signal,
    });
    return usageResult(body, headers);
  }

  /**
   * Whether a call of `amount` on `feature` (default: the main meter) would be allowed now, or
   * whether the plan includes an on/off feature. Counts nothing; only `track` reserves units.
   */
  async check(userId: string, options: CheckOptions = {}): Promise<CheckResult> {
    const { body } = await this.#call({
      method: "GET",
      path: `/api/check${queryOf({ feature: options.feature, amount: options.amount })}`,
      userId,
      plan: options.plan,
      signal: options.signal,
    });
    const result: CheckResult = {
      allowed: body.allowed,
      feature: body.feature,
      plan: body.plan,
    };
    if (body.usage !== undefined) result.usage = body.usage;
    return result;
  }

  /** A Stripe Checkout page in your Stripe account where `userId` upgrades to `tier`. */
  async createCheckout(userId: string, options: CheckoutOptions): Promise<CheckoutResult> {
    const { body } = await this.#call({
      method: "POST",
      path: "/api/create-checkout",
      userId,
      idempotencyKey: options.idempotencyKey ?? crypto.randomUUID(),
      body: {
        tier: options.tier,
        successUrl: options.successUrl,
        cancelUrl: options.cancelUrl,
        ...(options.email === undefined ? {} : { email: options.email }),
      },
      signal: options.signal,
    });
    return { url: body.url, sessionId: body.sessionId };
  }

  /** A Stripe billing-portal page where `userId` manages their subscription. */
  async customerPortal(userId: string, options: PortalOptions): Promise<PortalResult> {
    const { body } = await this.#call({
      method: "POST",
      path: "/api/customer-portal",
      userId,
      idempotencyKey: options.idempotencyKey ?? crypto.randomUUID(),
      body: { returnUrl: options.returnUrl },
      signal: options.signal,
    });
    return { url: body.url };
  }

  // deno-lint-ignore no-explicit-any
  async #call(call: Call): Promise<{ body: any; headers: Headers }> {
    // Only idempotent calls are retried: GETs, and POSTs that carry an Idempotency-Key.
    const retries = call.method === "GET" || call.idempotencyKey ? this.#maxRetries : 0;
    for (let attempt = 0;; attempt++) {
      let res: Response;
      try {
        res = await this.#attempt(call);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason ?? error;
        if (attempt < retries) {
          await this.#backoff(attempt, null, call.signal);
          continue;
        }
        throw new DreamApiError(
          0,
          "network_error",
          `No answer from ${this.#baseUrl}${call.path}: ${(error as Error)?.message ?? error}`,
          undefined,
          { cause: error },
        );
      }
      if (res.status >= 500 && attempt < retries) {
        await res.body?.cancel();
        await this.#backoff(attempt, res.headers.get("retry-after"), call.signal);
        continue;
      }
      const text = await res.text();
      // deno-lint-ignore no-explicit-any
      let body: any = undefined;
      try {
        body = JSON.parse(text);
      } catch { /* not JSON: handled below */ }
      if (res.ok && body && typeof body === "object") return { body, headers: res.headers };
      throw errorOf(res, body, text);
    }
  }

  async #attempt(call: Call): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      "x-user-id": call.userId,
      accept: "application/json",
    };
    if (call.plan !== undefined) headers["x-user-plan"] = call.plan;
    if (call.idempotencyKey !== undefined) headers["idempotency-key"] = call.idempotencyKey;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    // One controller per attempt: the timeout abandons this attempt only; the caller's signal all.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`timed out after ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
    const onAbort = () => controller.abort(call.signal?.reason);
    call.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (call.signal?.aborted) throw call.signal.reason;
      const res = await this.#fetch(`${this.#baseUrl}${call.path}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: controller.signal,
      });
      // Read the body within the timeout too, so a stalled body counts as a lost answer.
      const buffered = await res.arrayBuffer();
      return new Response(buffered, { status: res.status, headers: res.headers });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Full jitter (a random wait up to the exponential step); a server's Retry-After, if any, wins. */
  async #backoff(attempt: number, retryAfter: string | null, signal?: AbortSignal): Promise<void> {
    const step = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** attempt);
    let ms = Math.random() * step;
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) ms = Math.min(this.#retryMaxMs, seconds * 1000);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms);
      function done() {
        signal?.removeEventListener("abort", abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(signal?.reason);
      }
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
    });
  }
}

function intHeader(headers: Headers, name: string): number | null {
  const value = headers.get(name);
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** `?name=value&…` of the parameters given (empty when none is). */
function queryOf(params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

// deno-lint-ignore no-explicit-any
function usageResult(body: any, headers: Headers): UsageResult {
  const result: UsageResult = {
    usage: body.usage,
    plan: body.plan,
    planSource: body.planSource,
    period: body.period,
    rateLimit: {
      limit: intHeader(headers, "ratelimit-limit"),
      remaining: intHeader(headers, "ratelimit-remaining"),
      reset: intHeader(headers, "ratelimit-reset"),
    },
  };
  if (body.feature !== undefined) result.feature = body.feature;
  if (body.features !== undefined) result.features = body.features;
  return result;
}

// deno-lint-ignore no-explicit-any
function errorOf(res: Response, body: any, text: string): DreamApiError {
  const error = body?.error;
  if (!error || typeof error.code !== "string") {
    return new DreamApiError(
      res.status,
      `http_${res.status}`,
      `Unexpected ${res.status} answer: ${text.slice(0, 200)}`,
    );
  }
  if (error.code === "limit_exceeded" && res.status === 429) {
    const retryAfter = intHeader(res.headers, "retry-after") ??
      Math.max(1, Math.ceil((Date.parse(body.period?.end) - Date.now()) / 1000));
    return new LimitExceededError(error.message, {
      usage: body.usage,
      plan: body.plan,
      planSource: body.planSource,
      period: body.period,
      retryAfter,
      feature: body.feature,
    });
  }
  if (error.code === "feature_not_included" && error.details && typeof error.details === "object") {
    return new FeatureNotIncludedError(error.message, error.details, error.requestId);
  }
  return new DreamApiError(res.status, error.code, error.message, error.details, {
    requestId: typeof error.requestId === "string"
      ? error.requestId
      : res.headers.get("x-request-id") ?? undefined,
  });
}
