/**
 * The operations of the OpenAPI document: every method of the manifest's routes that has `docs`,
 * with the auth its route's kind implies, in manifest order. The facts live in the route files;
 * this only reads them.
 */
import { MANIFEST } from "../../routes/_manifest.ts";
import { METHODS, type RouteAuth, type RouteDefinition } from "../http/route.ts";
import type { HttpMethod, RouteDoc } from "./types.ts";

/** How each route kind authenticates, as the document's security schemes say it. */
const DOC_AUTH: Record<RouteAuth, RouteDoc["auth"]> = {
  tenant: "apiKey",
  founder: "session",
  paid: "session",
  founderPage: "session",
  paidPage: "session",
  public: "none",
  webhook: "none",
  sameOrigin: "none",
};

/** The documented operations of `routes`. */
export function documentedOperations(routes: readonly RouteDefinition[]): RouteDoc[] {
  const out: RouteDoc[] = [];
  for (const route of routes) {
    for (const method of METHODS) {
      const docs = route.methods[method]?.docs;
      if (!docs) continue;
      out.push({
        method: method.toLowerCase() as HttpMethod,
        path: route.path,
        auth: DOC_AUTH[route.auth],
        ...docs,
      });
    }
  }
  return out;
}

/** Every documented operation of dream-api. */
export const ROUTES: RouteDoc[] = documentedOperations(MANIFEST);
