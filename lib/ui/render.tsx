/** `renderPage`: server-renders a page (with its islands) into a complete HTML response. */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { AppContext } from "../http/route.ts";
import { assetUrl, islandManifest } from "./assets.ts";
import { type RenderContext, RenderCtx } from "./island.tsx";
import { htmlSecurityHeaders } from "./security.ts";

export interface RenderOptions {
  status?: 200 | 400 | 402 | 403 | 404 | 409 | 422 | 500 | 503;
  /** Extra headers (e.g. `Retry-After` on a 503 page). */
  headers?: Record<string, string>;
  /**
   * `private` (default) for pages showing a founder's data: never stored, so "Back" after
   * leaving a page that revealed a key cannot bring it back from a cache. `public` for the
   * marketing pages.
   */
  cache?: "private" | "public";
}

/** Renders `page` (a `<Shell>`) as `<!doctype html>…` with the asset context islands need. */
export async function renderPage(
  c: AppContext,
  page: VNode,
  options: RenderOptions = {},
): Promise<Response> {
  const { config } = c.get("deps");
  const ctx: RenderContext = {
    manifest: await islandManifest(config.appEnv),
    clerkPublishableKey: config.clerk.publishableKey,
    stylesHref: await assetUrl("styles.css"),
    ids: { next: 0 },
  };
  const html = renderToString(<RenderCtx.Provider value={ctx}>{page}</RenderCtx.Provider>);
  return c.html(`<!doctype html>${html}`, options.status ?? 200, {
    ...htmlSecurityHeaders(config),
    "cache-control": options.cache === "public" ? "public, max-age=0, must-revalidate" : "no-store",
    ...options.headers,
  });
}
