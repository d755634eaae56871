/**
 * GET /openapi.json — the OpenAPI 3.1 document of the tenant API and the founders' API. The app
 * gives it (`c.var.openapi`): it is made from the route manifest, which lists this file too.
 */
import { define, defineRoute } from "../lib/http/route.ts";

const GET = define.handler((c) => {
  return c.body(c.get("openapi").json(c.get("deps").config.publicUrl), 200, {
    "content-type": "application/json",
    "cache-control": "public, max-age=300",
    // Public and read-only: let API tools on other origins (editors, generators) load it.
    "access-control-allow-origin": "*",
  });
});

export const route = defineRoute({
  path: "/openapi.json",
  auth: "public",
  methods: { GET: { handler: GET } },
});
