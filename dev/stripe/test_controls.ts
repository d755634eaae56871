/**
 * `/_test/…`: controls for tests, not part of Stripe's API. JSON in and out; errors in Stripe's
 * error shape. Objects are found by id in whichever account holds them. See README.md.
 */
import { Hono } from "hono";
import type { Ctx } from "./api.ts";
import { StripeApiError } from "./errors.ts";
import type { Fault } from "./faults.ts";
import type { Subscription } from "./subscriptions.ts";
import { type Account, type Obj } from "./store.ts";

export function testRoutes(ctx: Ctx): Hono {
  const { store, billing } = ctx;
  const routes = new Hono();
  const body = async (req: Request): Promise<Record<string, unknown>> => {
    const text = await req.text();
    return text ? JSON.parse(text) : {};
  };
  const subscription = (id: string) => {
    const { account, obj } = billing.find("subscription", id);
    return { account, sub: obj as Subscription };
  };

  /** Pays a Checkout Session as the hosted page's Pay button does. Body: `{ email? }`. */
  routes.post("/checkout/:id/pay", async (c) => {
    const { email } = await body(c.req.raw);
    return c.json(await billing.payCheckout(c.req.param("id"), { email: email as string }));
  });

  /** Cancels now, like the portal: `customer.subscription.deleted`. */
  routes.post("/subscriptions/:id/cancel", async (c) => {
    const { account, sub } = subscription(c.req.param("id"));
    return c.json(await billing.cancel(account, sub));
  });

  /** Switches plan, like the portal. Body: `{ price }`. */
  routes.post("/subscriptions/:id/change", async (c) => {
    const { price } = await body(c.req.raw);
    if (typeof price !== "string") throw StripeApiError.missingParam("price");
    const { account, sub } = subscription(c.req.param("id"));
    return c.json(await billing.changePrice(account, sub, price));
  });

  /** The renewal payment fails: `past_due`, `invoice.payment_failed`. */
  routes.post("/subscriptions/:id/fail_payment", async (c) => {
    const { account, sub } = subscription(c.req.param("id"));
    return c.json(await billing.failPayment(account, sub));
  });

  /** The next payment succeeds (a past-due invoice, or the next period): `invoice.paid`. */
  routes.post("/subscriptions/:id/renew", async (c) => {
    const { account, sub } = subscription(c.req.param("id"));
    return c.json(await billing.renew(account, sub));
  });

  /**
   * Signs and delivers any event to the webhook endpoints of an account, named by `account`
   * (`acct_…`) or by the API key in `Authorization: Bearer`. Body:
   * `{ account?, type, object, previous_attributes? }`.
   */
  routes.post("/events", async (c) => {
    const input = await body(c.req.raw);
    const account = accountOf(input.account, c.req.header("authorization"));
    if (typeof input.type !== "string") throw StripeApiError.missingParam("type");
    if (!input.object || typeof input.object !== "object") {
      throw StripeApiError.missingParam("object");
    }
    const { events, deliveries } = await ctx.webhooks.publish(account, [{
      type: input.type,
      object: input.object as Obj,
      previousAttributes: input.previous_attributes as Record<string, unknown> | undefined,
    }]);
    return c.json({ event: events[0], deliveries });
  });

  /** Delivers a stored event again, same id and payload, freshly signed (Stripe's retry). */
  routes.post("/events/:id/deliver", async (c) => {
    const { account, obj } = billing.find("event", c.req.param("id"));
    return c.json({ deliveries: await ctx.webhooks.deliver(account, obj) });
  });

  /**
   * Makes every `/v1` request whose path starts with `path` (and of `method`, if given) fail with
   * `status` and Stripe's error body for it, until `DELETE /_test/faults`. Body:
   * `{ path, status, method?, error? }`.
   */
  routes.post("/faults", async (c) => {
    const input = await body(c.req.raw);
    if (typeof input.path !== "string" || !input.path.startsWith("/v1/")) {
      throw StripeApiError.missingParam("path");
    }
    if (typeof input.status !== "number" || input.status < 400 || input.status > 599) {
      throw StripeApiError.missingParam("status");
    }
    const fault: Fault = {
      path: input.path,
      status: input.status,
      ...(typeof input.method === "string" && { method: input.method }),
      ...(typeof input.error === "object" && input.error !== null &&
        { error: input.error as Fault["error"] }),
    };
    ctx.faults.push(fault);
    return c.json({ faults: ctx.faults });
  });

  /** Clears every injected fault. */
  routes.delete("/faults", (c) => {
    ctx.faults.length = 0;
    return c.json({ faults: [] });
  });

  /** Delivery attempts, oldest first; filters: `account`, `event`, `type`, `endpoint`, `url`. */
  routes.get("/deliveries", (c) => {
    const filters = Object.entries(c.req.query()) as [keyof typeof store.deliveries[0], string][];
    return c.json({
      data: store.deliveries.filter((d) => filters.every(([k, v]) => String(d[k]) === v)),
    });
  });

  function accountOf(id: unknown, authorization?: string): Account {
    if (typeof id === "string") {
      const account = store.accounts[id];
      if (!account) throw StripeApiError.noSuch("account", id, "account");
      return account;
    }
    const key = authorization?.replace(/^bearer\s+/i, "");
    if (!key) throw StripeApiError.missingParam("account");
    return store.accountForKey(key);
  }

  return routes;
}
