/** GET /dashboard/api/me — the signed-in founder's subscription, platform and Stripe connection. */
import { define } from "../../../lib/define.ts";
import { loadFounderView } from "../../../lib/founders/me.ts";

export const GET = define.handler(async (c) => {
  return c.json(await loadFounderView(c.get("deps"), c.get("founder")));
});
