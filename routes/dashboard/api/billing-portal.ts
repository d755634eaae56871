/** POST /dashboard/api/billing-portal — Stripe's billing portal for the founder's own subscription. */
import { createFounderPortal } from "../../../lib/billing/platform_subscription.ts";
import { define } from "../../../lib/define.ts";

export const POST = define.handler(async (c) => {
  return c.json(await createFounderPortal(c.get("deps"), c.get("founder").userId));
});
