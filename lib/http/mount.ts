/**
 * Mounting route definitions on Hono: each route's auth kind becomes its middleware chain (body
 * limit first, then auth), each method its handler, and every other method a 405 with `Allow`.
 */
import type { Handler, Hono, MiddlewareHandler } from "hono";
import { ApiError } from "../errors.ts";
import { requireApiKey } from "../middleware/api_key.ts";
import { limitBody } from "../middleware/body_limit.ts";
import {
  requireActiveSubscription,
  requireFounder,
  requireSameOrigin,
} from "../middleware/founder.ts";
import type { HotRoute } from "./hot_routes.ts";
import { type HonoEnv, METHODS, type RouteAuth, type RouteDefinition } from "./route.ts";

/** The middleware of each auth kind, in the order it runs. */
function authMiddleware(auth: RouteAuth): MiddlewareHandler<HonoEnv>[] {
  switch (auth) {
    case "public":
    case "webhook":
      return [];
    case "tenant":
      return [requireApiKey()];
    case "founder":
      return [requireFounder()];
    case "founderPage":
      return [requireFounder({ page: true })];
    // Signed in (cheap, no KV) → paid (one KV read) → the handler.
    case "paid":
      return [requireFounder(), requireActiveSubscription()];
    case "paidPage":
      return [requireFounder({ page: true }), requireActiveSubscription({ page: true })];
    case "sameOrigin":
      return [requireSameOrigin()];
  }
}

/** Mounts `route` on `app`: its middleware before each handler, and 405 for the other methods. */
export function mountRoute(app: Hono<HonoEnv>, route: RouteDefinition): void {
  const { path, methods } = route;
  const allowed = METHODS.filter((m) => methods[m]);
  for (const method of allowed) {
    if (methods[method]!.hot && route.auth !== "tenant") {
      throw new Error(`${method} ${path}: only tenant routes can be hot`);
    }
  }
  const middleware = [
    ...(route.bodyLimit === undefined ? [] : [limitBody(route.bodyLimit)]),
    ...authMiddleware(route.auth),
  ];
  // Hono's overloads cannot type a spread of handlers; the chain is middleware then the handler.
  const on = app.on.bind(app) as (method: string, path: string, ...h: Handler<HonoEnv>[]) => void;
  for (const method of allowed) on(method, path, ...middleware, methods[method]!.handler);
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

/** The hot methods of `routes` (tenant handlers answered without Hono), with their body limits. */
export function hotRoutesOf(routes: readonly RouteDefinition[]): HotRoute[] {
  const hot: HotRoute[] = [];
  for (const route of routes) {
    for (const method of METHODS) {
      const definition = route.methods[method];
      if (!definition?.hot) continue;
      hot.push({ method, path: route.path, handler: definition.handler, maxBody: route.bodyLimit });
    }
  }
  return hot;
}
