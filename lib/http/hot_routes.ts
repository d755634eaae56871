/**
 * The tenant API's metered routes, answered without Hono's router and Context.
 *
 * `POST /api/data` and `GET /api/usage` run on every billable action of every founder's product,
 * and Hono's per-request machinery (Context, middleware composition, `c.json`) costs about 11 µs
 * of CPU per request: a Hono app with one middleware and `c.json` spends 18 µs where bare
 * `Deno.serve` spends 6.6 µs (README, Performance). `hotRoutes` answers exactly these method and
 * path pairs itself, with the steps of their Hono mounts in the same order (body limit,
 * then `authenticateCaller`, then the route's own handler, then the one error envelope). Anything
 * else goes to Hono unchanged, including other methods on these paths (405), HEAD, and paths with
 * percent-escapes (Hono decodes those).
 */
import { authenticateCaller } from "../auth/caller.ts";
import type { Deps } from "../deps.ts";
import { decodeText, readLimitedBody } from "./body.ts";
import { errorResponse, logUnexpected } from "./json.ts";
import { REQUEST_ID_HEADER, requestIdOf } from "./request_id.ts";
import type { Method, TenantRoute } from "./route.ts";

/** A hot method of a route definition (`hotRoutesOf` in lib/http/mount.ts reads them). */
export interface HotRoute {
  method: Method;
  path: string;
  handler: TenantRoute;
  /** The route's `bodyLimit` (what `limitBody` applies on its Hono mount); none: not read first. */
  maxBody?: number;
}

// deno-lint-ignore no-explicit-any
type Fetch = (req: Request, ...rest: any[]) => Response | Promise<Response>;

/** A fetch handler answering `routes` itself and passing every other request to `fallback`. */
export function hotRoutes(deps: Deps, routes: readonly HotRoute[], fallback: Fetch): Fetch {
  const table = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
  return (req, ...rest) => {
    const path = pathOf(req.url);
    const route = path === null ? undefined : table.get(`${req.method} ${path}`);
    return route ? serve(route, req, deps) : fallback(req, ...rest);
  };
}

async function serve(route: HotRoute, req: Request, deps: Deps): Promise<Response> {
  const requestId = requestIdOf(req.headers.get(REQUEST_ID_HEADER));
  // Bytes of the body taken from the process's budget, given back when the answer is ready.
  let held = 0;
  let res: Response;
  try {
    let body: string | undefined;
    if (route.maxBody !== undefined) {
      const bytes = await readLimitedBody(req, route.maxBody, deps.bodyBudget);
      held = bytes.byteLength;
      body = decodeText(bytes);
    }
    const caller = await authenticateCaller(req.headers, deps);
    const text = body === undefined ? () => req.text() : () => Promise.resolve(body);
    res = await route.handler.serve({ req, caller, deps, text, requestId });
  } catch (error) {
    res = errorResponse(
      error,
      logUnexpected(deps.log, { method: req.method, path: route.path, requestId }),
      requestId,
    );
  } finally {
    if (held !== 0) deps.bodyBudget.release(held);
  }
  res.headers.set(REQUEST_ID_HEADER, requestId);
  return res;
}

/** The path of an absolute request URL; `null` when it has percent-escapes (Hono decides those). */
export function pathOf(url: string): string | null {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const path = query < 0 ? url.slice(start) : url.slice(start, query);
  return path.includes("%") ? null : path;
}
