/**
 * `/_test/…`: controls for tests, not part of Stripe's API. JSON in and out; errors in Stripe's
 * error shape. Objects are found by id in whichever account holds them. See README.md.
 */
import { Hono } from "hono";
import type { Ctx } from "./api.ts";
import { StripeApiError } from "./errors.ts";
import type { Fault } from "./faults.ts";
import type { Subscription } from "./subscriptions.ts";
import { type Account, newId, type Obj } from "./store.ts";
import { accountObject } from "./catalog.ts";

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
   * Makes every `/v1` or `/oauth` request whose path starts with `path` (and of `method`, if
   * given) fail with `status` and Stripe's error body for it (or `body`), or break the connection
   * (`down: true`), until `DELETE /_test/faults`. Body: `{ path, status, method?, error?, body?, down? }`.
   */
  routes.post("/faults", async (c) => {
    const input = await body(c.req.raw);
    if (
      typeof input.path !== "string" ||
      !(input.path.startsWith("/v1/") || input.path.startsWith("/oauth/"))
    ) {
      throw StripeApiError.missingParam("path");
    }
    const down = input.down === true;
    if (
      !down && (typeof input.status !== "number" || input.status < 400 || input.status > 599)
    ) {
      throw StripeApiError.missingParam("status");
    }
    const fault: Fault = {
      path: input.path,
      ...(!down && { status: input.status as number }),
      ...(down && { down }),
      ...(typeof input.method === "string" && { method: input.method }),
      ...(typeof input.error === "object" && input.error !== null &&
        { error: input.error as Fault["error"] }),
      ...(typeof input.body === "object" && input.body !== null &&
        { body: input.body as Fault["body"] }),
    };
    ctx.faults.push(fault);
    return c.json({ faults: ctx.faults });
  });

  /**
   * Connect: registers (or adds to) the OAuth application of the platform whose key is in
   * `Authorization: Bearer` (Stripe: Settings → Connect → OAuth). Body: `{ redirect_uris?, name? }`.
   */
  routes.post("/connect/applications", async (c) => {
    const input = await body(c.req.raw);
    const platform = accountOf(undefined, c.req.header("authorization"));
    const redirectUris = Array.isArray(input.redirect_uris) ? input.redirect_uris.map(String) : [];
    for (const uri of redirectUris) {
      if (!URL.canParse(uri)) throw StripeApiError.invalid(`Invalid URL: ${uri}`, "redirect_uris");
    }
    return c.json(ctx.connect.register(platform, {
      redirectUris,
      name: typeof input.name === "string" ? input.name : undefined,
    }));
  });

  /** The connection of an account (`acct_…`), or 404 when it is connected to no platform. */
  routes.get("/connect/connections/:account", (c) => {
    const connection = ctx.connect.connectionOf(c.req.param("account"));
    if (!connection) throw StripeApiError.noSuch("connection", c.req.param("account"));
    return c.json(connection);
  });

  /**
   * The account's owner revokes the platform in their own dashboard: the connection ends and
   * `account.application.deauthorized` is delivered, as with `POST /oauth/deauthorize`.
   */
  routes.post("/connect/connections/:account/revoke", async (c) => {
    const connection = ctx.connect.connectionOf(c.req.param("account"));
    if (!connection) throw StripeApiError.noSuch("connection", c.req.param("account"));
    return c.json(await ctx.connect.revoke(connection));
  });

  /**
   * Creates a Standard account as its owner would (no key of its own; reach it through Connect).
   * Body: `{ display_name, email?, livemode? }`.
   */
  routes.post("/accounts", async (c) => {
    const input = await body(c.req.raw);
    if (typeof input.display_name !== "string" || !input.display_name.trim()) {
      throw StripeApiError.missingParam("display_name");
    }
    const id = `acct_1${newId("x", 15).slice(2)}`;
    store.accounts[id] = store.newAccount(id, input.livemode === true, {
      display_name: input.display_name.trim(),
      email: typeof input.email === "string" ? input.email : null,
    });
    return c.json(accountObject(store.accounts[id]));
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
