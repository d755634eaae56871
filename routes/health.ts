/** GET /health — 200 once KV answers. */
import { define } from "../lib/define.ts";
import { keys } from "../lib/kv/keys.ts";

export const GET = define.handler(async (c) => {
  await c.get("deps").kv.get(keys.platform("health-probe"));
  return c.json({ ok: true });
});
