/** GET /api/usage — the end-user's usage in the current period, without counting. */
import { define } from "../../lib/define.ts";
import { jsonResponse } from "../../lib/http/json.ts";
import { periodOf } from "../../lib/usage/period.ts";
import { usageBody, usageHeaders } from "../../lib/usage/response.ts";

export const GET = define.tenant(async ({ caller, deps }) => {
  const at = deps.now();
  const period = periodOf(caller.tier.period, at);
  const count = await deps.meter.read(caller.tenant.platformId, period, caller.userId);
  const result = {
    ok: true,
    replayed: false,
    count,
    limit: caller.tier.limit,
    plan: caller.tier.id,
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
  };
  const headers = usageHeaders(result, at);
  return jsonResponse(usageBody(result, caller.planSource), 200, headers);
});
