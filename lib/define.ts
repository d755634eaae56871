/**
 * Fresh-style route definitions on Hono: a route file exports `GET`, `POST`, … built with
 * `define.handler`, and `mountRoute` registers them, answering 405 for the other methods.
 */
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import type { Config } from "../fresh.config.ts";
import type { SnapshotCache } from "./analytics/snapshot.ts";
import type { DevSigner, VerifySession } from "./auth/clerk.ts";
import type { Tenant, TenantCache } from "./auth/tenant_cache.ts";
import type { EndUserPlanCache } from "./billing/end_user_plans.ts";
import type { StripeFactory } from "./billing/stripe_client.ts";
import type { SecretBox } from "./crypto/secrets.ts";
import type { BodyBudget } from "./http/body_budget.ts";
import { ApiError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Tier } from "./schemas/tiers.ts";
import type { UsageMeter } from "./usage/meter.ts";
import type { PlanSource } from "./usage/plan.ts";

/** Everything a request may use, passed in once to `createApp`. */
export interface Deps {
  config: Config;
  kv: Deno.Kv;
  meter: UsageMeter;
  tenants: TenantCache;
  log: Logger;
  now: () => Date;
  /** Stripe clients for any secret key (dream-api's own and founders'), honouring STRIPE_API_URL. */
  stripeFor: StripeFactory;
  /** Verifies a founder's session JWT (Clerk, or the development key). */
  verifySession: VerifySession;
  /** Issues development session tokens; `null` whenever development sign-in is off. */
  devSigner: DevSigner | null;
  /** Seals founders' Stripe secrets at rest (AES-256-GCM, platform id as context). */
  secrets: SecretBox;
  /** End-users' paid tiers from their Stripe subscriptions (cached like tenants; webhooks forget). */
  endUserPlans: EndUserPlanCache;
  /** Periods' end-users by count, read for the analytics API and the tier preview (short-lived). */
  usageSnapshots: SnapshotCache;
  /** This process's memory budget and read deadline for request bodies (one per process). */
  bodyBudget: BodyBudget;
}

/** The signed-in founder: set by `requireFounder`. */
export interface Founder {
  userId: string;
  /** The session's `email` claim, when it carries a valid one (see `sessionEmail`). */
  email?: string;
}

/** Who is calling the tenant API: set by `requireApiKey`. */
export interface Caller {
  tenant: Tenant;
  userId: string;
  tier: Tier;
  planSource: PlanSource;
}

export interface AppEnv {
  Variables: {
    deps: Deps;
    caller: Caller;
    founder: Founder;
    /** This request's id (`X-Request-Id`), set first by the app's global middleware. */
    requestId: string;
  };
}

export type AppContext = Context<AppEnv>;

/** What a tenant-API handler is given: the request, its authenticated caller, deps and body. */
export interface TenantContext {
  req: Request;
  caller: Caller;
  deps: Deps;
  /** The body as text (its size already limited by the route's body limit). */
  text(): Promise<string>;
  /** This request's id, for error envelopes the handler writes itself. */
  requestId: string;
}

/** A tenant-API handler: plain `Request` in, `Response` out, so it runs with or without Hono. */
export type TenantHandler = (ctx: TenantContext) => Promise<Response>;

/** A Hono handler that also carries its Hono-free form, for `hotRoutes` (lib/http/hot_routes.ts). */
export type TenantRoute = Handler<AppEnv> & { serve: TenantHandler };

export const define = {
  handler: (handler: Handler<AppEnv>): Handler<AppEnv> => handler,
  middleware: (middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> => middleware,
  /** A tenant-API handler; mounted after `requireApiKey`, which sets the caller. */
  tenant: (handler: TenantHandler): TenantRoute =>
    Object.assign(
      (c: AppContext) =>
        handler({
          req: c.req.raw,
          caller: c.get("caller"),
          deps: c.get("deps"),
          text: () => c.req.text(),
          requestId: c.get("requestId"),
        }),
      { serve: handler },
    ),
};

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];

/** A route module: its exported method handlers. */
export type RouteModule = Partial<Record<Method, Handler<AppEnv>>>;

/** Mounts a route module at `path`, with `middleware` before each handler and 405 for the rest. */
export function mountRoute(
  app: Hono<AppEnv>,
  path: string,
  route: RouteModule,
  ...middleware: MiddlewareHandler<AppEnv>[]
): void {
  const allowed = METHODS.filter((m) => route[m]);
  // Hono's overloads cannot type a spread of handlers; the chain is middleware then the handler.
  const on = app.on.bind(app) as (method: string, path: string, ...h: Handler<AppEnv>[]) => void;
  for (const method of allowed) on(method, path, ...middleware, route[method]!);
  app.all(path, () => {
    throw new ApiError(
      "method_not_allowed",
      `Use ${allowed.join(" or ")} for ${path}.`,
      undefined,
      {
        Allow: allowed.join(", "),
      },
    );
  });
}
