/** GET /openapi.json — the OpenAPI 3.1 document of the tenant API and the founders' API. */
import { define } from "../lib/define.ts";
import { openApiJson } from "../lib/openapi/document.ts";

export const GET = define.handler((c) => {
  return c.body(openApiJson(c.get("deps").config.publicUrl), 200, {
    "content-type": "application/json",
    "cache-control": "public, max-age=300",
    // Public and read-only: let API tools on other origins (editors, generators) load it.
    "access-control-allow-origin": "*",
  });
});
