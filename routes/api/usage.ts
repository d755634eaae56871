/** GET /api/usage — the end-user's usage in the current period, without counting. */
import { define } from "../../lib/define.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { usageBody, usageHeaders } from "../../lib/usage/response.ts";

export const GET = define.handler(async (c) => {
  const caller = c.get("caller");
  const { meter, now } = c.get("deps");
  const at = now();
  const period = periodOf(caller.tier.period, at);
  const count = await meter.read(caller.tenant.platformId, period, caller.userId);
  const result = {
    ok: true,
    replayed: false,
    count,
    limit: caller.tier.limit,
    plan: caller.tier.id,
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
  };
  const headers = usageHeaders(result, at);
  return c.json(usageBody(result, caller.planSource), 200, headers);
});
