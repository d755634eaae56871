/**
 * POST /webhook/stripe — events from every founder's Stripe account. The raw body is verified
 * with the webhook secret of the platform it names (400 and no change otherwise); verified events
 * are acknowledged with 200, also the types we do not act on (Stripe disables failing endpoints).
 */
import { receiveEndUserEvent } from "../../lib/billing/end_user_webhook.ts";
import { define } from "../../lib/define.ts";

export const POST = define.handler(async (c) => {
  const { outcome } = await receiveEndUserEvent(
    c.get("deps"),
    await c.req.text(),
    c.req.header("stripe-signature"),
  );
  return c.json({ received: true, outcome });
});
