/** POST /dashboard/api/subscribe — a Stripe Checkout URL for dream-api's $29/month plan. */
import { createSubscribeCheckout } from "../../../lib/billing/platform_subscription.ts";
import { define } from "../../../lib/define.ts";

export const POST = define.handler(async (c) => {
  const { userId, email } = c.get("founder");
  return c.json(await createSubscribeCheckout(c.get("deps"), userId, email));
});
