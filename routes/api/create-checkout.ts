/** POST /api/create-checkout — a Checkout Session in the founder's Stripe for the end-user. */
import { createCheckout } from "../../lib/billing/end_users.ts";
import { define } from "../../lib/define.ts";
import { readHeader, readJson } from "../../lib/http/body.ts";
import { CreateCheckoutBodySchema } from "../../lib/schemas/billing.ts";
import { IdempotencyKeySchema } from "../../lib/schemas/tenant.ts";

export const POST = define.handler(async (c) => {
  const idempotencyKey = readHeader(c, "idempotency-key", IdempotencyKeySchema);
  const body = await readJson(c, CreateCheckoutBodySchema);
  return c.json(await createCheckout(c.get("deps"), c.get("caller"), body, idempotencyKey));
});
