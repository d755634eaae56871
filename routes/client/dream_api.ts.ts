/**
 * GET /client/dream_api.ts — the typed client's source, so Deno can import it by URL from the
 * server it talks to, and anyone can download it (`curl -O`) into a Node, Bun or edge project.
 */
import { define } from "../../lib/define.ts";

const SOURCE = new URL("../../client/dream_api.ts", import.meta.url);
let source: Promise<string> | undefined;

export const GET = define.handler(async (c) => {
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
