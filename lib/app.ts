/** `createApp(deps)`: the whole HTTP surface of dream-api, with its one error handler. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { MANIFEST } from "../routes/_manifest.ts";
import { serveStatic } from "./ui/assets.ts";
import { notFoundPage, serverErrorPage, wantsHtml } from "./ui/error_page.tsx";
import type { Deps } from "./deps.ts";
import { ApiError, errorBody } from "./errors.ts";
import { hotRoutes } from "./http/hot_routes.ts";
import { errorResponse, logUnexpected } from "./http/json.ts";
import { isStorageFault } from "./kv/open.ts";
import { hotRoutesOf, mountRoute } from "./http/mount.ts";
import { REQUEST_ID_HEADER, requestIdOf } from "./http/request_id.ts";
import type { HonoEnv } from "./http/route.ts";
import { openApiDocument, openApiJson } from "./openapi/document.ts";
import type { ApiDocument } from "./openapi/types.ts";

export type { Deps } from "./deps.ts";

/** The document of the manifest's routes, for `/openapi.json` and `/docs`. */
const OPENAPI: ApiDocument = { json: openApiJson, document: openApiDocument };

/**
 * Builds the app around its dependencies; nothing here opens KV or reads the environment.
 * Every route of `routes/_manifest.ts` is mounted with the middleware its definition names.
 * `hotRoutes: false` serves the metered routes through Hono too (tests compare the two).
 */
export function createApp(deps: Deps, options: { hotRoutes?: boolean } = {}): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  // Global middleware does not run for the hot routes (below); tests/http/hot_routes_test.ts
  // compares their answers with Hono's and fails if one added here changes what a caller sees.
  // The request id comes first so that every answer, 404s and errors included, carries it.
  app.use(async (c, next) => {
    const requestId = requestIdOf(c.req.raw.headers.get(REQUEST_ID_HEADER));
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.set("openapi", OPENAPI);
    await next();
    c.header(REQUEST_ID_HEADER, requestId);
  });

  for (const route of MANIFEST) mountRoute(app, route);
  // Pages: server-rendered Preact; only islands ship JavaScript. Their assets are files, not routes.
  app.use("/static/*", serveStatic());

  app.notFound((c) =>
    wantsHtml(c) ? notFoundPage(c) : c.json(
      errorBody(
        "not_found",
        `No route for ${c.req.method} ${c.req.path}.`,
        undefined,
        c.get("requestId"),
      ),
      404,
    )
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      error = new ApiError("invalid_request", error.message || "Bad request.");
    }
    const requestId = c.get("requestId");
    const unexpected = logUnexpected(deps.log, {
      method: c.req.method,
      path: c.req.path,
      requestId,
    });
    if (!(error instanceof ApiError) && wantsHtml(c)) {
      unexpected(error);
      return serverErrorPage(c, { unavailable: isStorageFault(error) });
    }
    return errorResponse(error, unexpected, requestId);
  });

  // The metered tenant routes (their definitions say `hot: true`) skip Hono's per-request
  // machinery: the same handlers, body limits, checks and envelope (lib/http/hot_routes.ts).
  // `app.request()` calls `app.fetch`, so tests see it too.
  if (options.hotRoutes === false) return app;
  app.fetch = hotRoutes(deps, hotRoutesOf(MANIFEST), app.fetch);
  return app;
}
