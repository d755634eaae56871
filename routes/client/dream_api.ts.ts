/**
 * GET /client/dream_api.ts — the typed client's source, so Deno can import it by URL from the
 * server it talks to, and anyone can download it (`curl -O`) into a Node, Bun or edge project.
 */
import { define, defineRoute } from "../../lib/http/route.ts";

const SOURCE = new URL("../../client/dream_api.ts", import.meta.url);
let source: Promise<string> | undefined;

const GET = define.handler(async (c) => {
  source ??= Deno.readTextFile(SOURCE).catch((error) => {
    source = undefined;
    throw error;
  });
  return c.body(await source, 200, {
    // Deno decides the module's language from this media type.
    "content-type": "application/typescript; charset=utf-8",
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
    "x-content-type-options": "nosniff",
  });
});

export const route = defineRoute({
  path: "/client/dream_api.ts",
  auth: "public",
  methods: { GET: { handler: GET } },
});
