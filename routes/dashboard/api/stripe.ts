/** POST /dashboard/api/stripe — connects the founder's Stripe account (key checked, then sealed). */
import { connectFounderStripe } from "../../../lib/billing/founder_stripe.ts";
import { define } from "../../../lib/define.ts";
import { readJson } from "../../../lib/http/body.ts";
import { ConnectStripeBodySchema } from "../../../lib/schemas/dashboard.ts";

export const POST = define.handler(async (c) => {
  const { secretKey } = await readJson(c, ConnectStripeBodySchema);
  return c.json(await connectFounderStripe(c.get("deps"), c.get("founder").userId, secretKey));
});
