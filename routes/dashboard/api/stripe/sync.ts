/** POST /dashboard/api/stripe/sync — products, monthly prices and the webhook endpoint in the founder's Stripe. */
import { syncFounderStripe } from "../../../../lib/billing/founder_stripe.ts";
import { define } from "../../../../lib/define.ts";

export const POST = define.handler(async (c) => {
  return c.json(await syncFounderStripe(c.get("deps"), c.get("founder").userId));
});
