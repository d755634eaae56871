/**
 * `requireApiKey`: authenticates a tenant-API call and sets `caller` (lib/auth/caller.ts). It runs
 * before anything that reads a body or writes.
 */
import { authenticateCaller } from "../auth/caller.ts";
import { define } from "../http/route.ts";

export function requireApiKey() {
  return define.middleware(async function requireApiKey(c, next) {
    c.set("caller", await authenticateCaller(c.req.raw.headers, c.get("deps")));
    await next();
  });
}
