/** GET /health — 200 `{ ok: true }` while KV can write; 503 `unavailable` (Retry-After) when not. */
import { define, defineRoute } from "../lib/http/route.ts";
import { ApiError } from "../lib/errors.ts";
import { kvCanWrite } from "../lib/kv/open.ts";

const GET = define.handler(async (c) => {
  const deps = c.get("deps");
  if (!await kvCanWrite(deps.kv, deps.now().getTime())) {
    throw new ApiError("unavailable", "Storage cannot write at the moment.");
  }
  return c.json({ ok: true });
});

export const route = defineRoute({
  path: "/health",
  auth: "public",
  methods: { GET: { handler: GET } },
});
