/**
 * Founders' authentication and the paid gate for the dashboard and its JSON API.
 *
 * `requireFounder` reads the Clerk session token from `Authorization: Bearer` or the `__session`
 * cookie, verifies it, and sets `c.var.founder`. Cookie-authenticated mutations must come from our
 * own origin (CSRF); Bearer calls carry no ambient credential and need no check.
 * `requireActiveSubscription` opens configuration only to `active`/`trialing` founders.
 */
import { getCookie } from "hono/cookie";
import type { Config } from "../../fresh.config.ts";
import { bearerToken } from "../auth/bearer.ts";
import { type AppContext, define } from "../http/route.ts";
import { ApiError } from "../errors.ts";
import { getFounderSubscription, isPaid } from "../kv/founder_subscriptions.ts";

/** The cookie Clerk's browser script (and the development sign-in) keeps the session token in. */
export const SESSION_COOKIE = "__session";

/** Where signed-out page visits go. */
export const SIGN_IN_PATH = "/sign-in";

/** Where unpaid page visits go. */
export const BILLING_PATH = "/dashboard/billing";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Authenticates a founder. `page: true` redirects (302) to `/sign-in` when signed out; otherwise
 * the answer is 401 `unauthorized` in the envelope.
 */
export function requireFounder(options: { page?: boolean } = {}) {
  const page = options.page ?? false;
  return define.middleware(async function requireFounder(c, next) {
    const { token, via } = sessionToken(c);
    const deps = c.get("deps");
    const result = token
      ? await deps.verifySession(token)
      : { ok: false as const, reason: "missing" as const };
    if (!result.ok) {
      if (result.reason !== "missing") {
        deps.log.log("info", "session refused", { reason: result.reason, path: c.req.path });
      }
      if (page) return c.redirect(SIGN_IN_PATH, 302);
      throw new ApiError("unauthorized", "Sign in first: no valid session.");
    }
    if (via === "cookie" && !SAFE_METHODS.has(c.req.method) && !isSameOrigin(c)) {
      throw csrfRefused();
    }
    c.set("founder", { userId: result.userId, ...(result.email && { email: result.email }) });
    await next();
  });
}

/**
 * The paid gate: 402 `subscription_required` (or, for pages, a redirect to billing) unless the
 * founder's subscription is `active` or `trialing`. Runs after `requireFounder`.
 */
export function requireActiveSubscription(options: { page?: boolean } = {}) {
  const page = options.page ?? false;
  return define.middleware(async function requireActiveSubscription(c, next) {
    const subscription = await getFounderSubscription(c.get("deps").kv, c.get("founder").userId);
    if (!subscription || !isPaid(subscription.status)) {
      if (page) return c.redirect(BILLING_PATH, 302);
      throw new ApiError(
        "subscription_required",
        `Configuration needs an active dream-api subscription (yours is '${
          subscription?.status ?? "none"
        }'). Subscribe at ${BILLING_PATH}.`,
      );
    }
    await next();
  });
}

/** The session token and where it came from; a Bearer header wins over the cookie. */
export function sessionToken(
  c: AppContext,
): { token: string | null; via: "bearer" | "cookie" | null } {
  const header = c.req.header("authorization");
  if (header) return { token: bearerToken(header), via: "bearer" };
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { token: cookie, via: "cookie" } : { token: null, via: null };
}

const originsByConfig = new WeakMap<Config, ReadonlySet<string>>();

/**
 * The origins a cookie-bearing mutation may come from: `PUBLIC_URL`'s, and in development also
 * `http://localhost:PORT` and `http://127.0.0.1:PORT` (the dev server opened either way). Never
 * derived from the request: its `Host` is whatever the sender wrote.
 */
export function allowedOrigins(config: Config): ReadonlySet<string> {
  let origins = originsByConfig.get(config);
  if (!origins) {
    const set = new Set([new URL(config.publicUrl).origin]);
    if (config.appEnv === "development") {
      set.add(`http://localhost:${config.port}`).add(`http://127.0.0.1:${config.port}`);
    }
    originsByConfig.set(config, origins = set);
  }
  return origins;
}

/**
 * The CSRF rule for requests that carry cookies: the `Origin` header must be one of
 * `allowedOrigins` (configuration, never the request's own `Host`); without `Origin`, the
 * browser's `Sec-Fetch-Site: same-origin` is accepted (a header pages cannot set). Anything else
 * — another site, a sibling subdomain (`same-site`), `null`, or no evidence at all — is refused.
 */
export function isSameOrigin(c: AppContext): boolean {
  const origin = c.req.header("origin");
  if (origin !== undefined) return allowedOrigins(c.get("deps").config).has(origin);
  return c.req.header("sec-fetch-site") === "same-origin";
}

/** The 403 of a cookie-bearing change from another site. */
export function csrfRefused(): ApiError {
  return new ApiError("forbidden", "Cross-site request refused (CSRF check).");
}

/** Refuses a cookie-bearing mutation that fails `isSameOrigin` (sign-in and sign-out forms). */
export function requireSameOrigin() {
  return define.middleware(async function requireSameOrigin(c, next) {
    if (!isSameOrigin(c)) {
      throw csrfRefused();
    }
    await next();
  });
}
