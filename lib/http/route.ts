/**
 * Route definitions: each file under `routes/` exports `route = defineRoute({ … })`, the one home
 * of everything about its URL (path, auth kind, body limit, handlers, OpenAPI docs);
 * `routes/_manifest.ts` lists them for `createApp` (lib/app.ts) and the OpenAPI document alike.
 */
import type { Context, Handler, MiddlewareHandler } from "hono";
import type { Caller, TenantHandler } from "../auth/caller.ts";
import type { Deps } from "../deps.ts";
import type { Founder } from "../founders/session.ts";
import type { ApiDocument, RouteDoc } from "../openapi/types.ts";

/** Hono's per-request variables (not the deployment environment: that is `Config.appEnv`). */
export interface HonoEnv {
  Variables: {
    deps: Deps;
    caller: Caller;
    founder: Founder;
    /** This request's id (`X-Request-Id`), set first by the app's global middleware. */
    requestId: string;
    /** The OpenAPI document of the routes mounted (given by `createApp`, for `/openapi.json` and `/docs`). */
    openapi: ApiDocument;
  };
}

export type AppContext = Context<HonoEnv>;

/** A Hono handler that also carries its Hono-free form, for `hotRoutes` (lib/http/hot_routes.ts). */
export type TenantRoute = Handler<HonoEnv> & { serve: TenantHandler };

export const define = {
  handler: (handler: Handler<HonoEnv>): Handler<HonoEnv> => handler,
  middleware: (middleware: MiddlewareHandler<HonoEnv>): MiddlewareHandler<HonoEnv> => middleware,
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

/** The methods a route may answer, in the order a 405's `Allow` header lists them. */
export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

/**
 * Who may call, checked before the handler (after the body limit):
 * - `public`: anyone; `webhook`: anyone, the handler verifies the signature on the raw body;
 * - `tenant`: a platform's API key (`requireApiKey` sets `caller`);
 * - `founder` / `founderPage`: a founder's session (401, or for pages a redirect to sign-in);
 * - `paid` / `paidPage`: a founder's session and an active subscription (402, or a redirect to billing);
 * - `sameOrigin`: a cookie-bearing form from our own origin (CSRF check; `/sign-out`).
 */
export type RouteAuth =
  | "public"
  | "webhook"
  | "tenant"
  | "founder"
  | "founderPage"
  | "paid"
  | "paidPage"
  | "sameOrigin";

/** What the OpenAPI document says of one operation, besides its method, path and auth. */
export type OperationDoc = Omit<RouteDoc, "method" | "path" | "auth">;

/** One method of a route: its handler, and its docs when it belongs in the OpenAPI document. */
export interface MethodDefinition {
  handler: Handler<HonoEnv>;
  /** Served through Hono (the default); see `HotMethodDefinition` for the metered exceptions. */
  hot?: false;
  docs?: OperationDoc;
}

/** A metered tenant method, answered by `hotRoutes` without Hono's Context (same checks, same bytes). */
export interface HotMethodDefinition {
  handler: TenantRoute;
  hot: true;
  docs?: OperationDoc;
}

/** Everything about one URL; its file under `routes/` is its only home. */
export interface RouteDefinition {
  /** The URL path, the same as the file's path under `routes/` (checked by tests/http/manifest_test.ts). */
  path: string;
  auth: RouteAuth;
  /**
   * The body is read first, up to this many bytes (413 beyond; `MAX_BODY_BYTES`, 16 KiB, for JSON
   * APIs; more for webhooks). Without one, the body is not read before the handler.
   */
  bodyLimit?: number;
  methods: Partial<Record<Method, MethodDefinition | HotMethodDefinition>>;
}

/**
 * A route file's definition, type-checked where it is written. Hot methods belong to tenant
 * routes only (`mountRoute` refuses anything else when the app is built).
 * @example export const route = defineRoute({ path: "/health", auth: "public", methods: { GET: { handler } } });
 */
export function defineRoute(route: RouteDefinition): RouteDefinition {
  return route;
}
