/** POST /dashboard/api/keys — a new API key; the previous one works `graceSeconds` longer. */
import { define } from "../../../lib/define.ts";
import { rotateFounderKey } from "../../../lib/founders/platform.ts";
import { readJson } from "../../../lib/http/body.ts";
import { RotateKeyBodySchema } from "../../../lib/schemas/dashboard.ts";

export const POST = define.handler(async (c) => {
  const { graceSeconds } = await readJson(c, RotateKeyBodySchema);
  const { apiKey } = await rotateFounderKey(c.get("deps"), c.get("founder").userId, graceSeconds);
  c.header("Cache-Control", "no-store");
  return c.json({ apiKey }, 201);
});
