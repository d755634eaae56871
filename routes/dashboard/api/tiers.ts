/** PUT /dashboard/api/tiers — replaces the platform's tiers (validated with the one tier schema). */
import { define } from "../../../lib/define.ts";
import { saveFounderTiers } from "../../../lib/founders/platform.ts";
import { readJson } from "../../../lib/http/body.ts";
import { PutTiersBodySchema } from "../../../lib/schemas/dashboard.ts";

export const PUT = define.handler(async (c) => {
  const { tiers } = await readJson(c, PutTiersBodySchema);
  const saved = await saveFounderTiers(c.get("deps"), c.get("founder").userId, tiers);
  return c.json({ tiers: saved.tiers });
});
