/** POST /api/customer-portal — a billing-portal session for the end-user's Stripe customer. */
import { createPortal } from "../../lib/billing/end_users.ts";
import { define } from "../../lib/define.ts";
import { readHeader, readJson } from "../../lib/http/body.ts";
import { CustomerPortalBodySchema } from "../../lib/schemas/billing.ts";
import { IdempotencyKeySchema } from "../../lib/schemas/tenant.ts";

export const POST = define.handler(async (c) => {
  const idempotencyKey = readHeader(c, "idempotency-key", IdempotencyKeySchema);
  const body = await readJson(c, CustomerPortalBodySchema);
  return c.json(await createPortal(c.get("deps"), c.get("caller"), body, idempotencyKey));
});
