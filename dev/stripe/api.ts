/**
 * The `/v1` API: authentication by secret key (one account per key) and `Stripe-Account` (a
 * Connect platform acting on an account connected to it), Stripe's form-encoded parameters,
 * `Idempotency-Key` replay, `expand[]`, and the endpoints dream-api uses.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Billing } from "./billing.ts";
import { StripeApiError } from "./errors.ts";
import { bool, type FormObject, parseForm, required, str, strings } from "./form.ts";
import {
  accountObject,
  createCustomer,
  createPrice,
  createProduct,
  createWebhookEndpoint,
  hideSecret,
  type Price,
  updateCustomer,
  updatePrice,
  updateProduct,
  updateWebhookEndpoint,
} from "./catalog.ts";
import { checkoutLineItems, createCheckoutSession, createPortalSession } from "./sessions.ts";
import type { Subscription } from "./subscriptions.ts";
import { type Account, newId, type Obj, type Store } from "./store.ts";
import { API_VERSION, connectView, type Webhooks } from "./webhooks.ts";
import type { Fault } from "./faults.ts";
import type { Connect } from "./connect.ts";

/** What every part of the local Stripe shares. `baseUrl` is where its hosted pages are served. */
export interface Ctx {
  store: Store;
  webhooks: Webhooks;
  billing: Billing;
  connect: Connect;
  baseUrl: string;
  /** Failures injected with `/_test/faults` (faults.ts). */
  faults: Fault[];
}

type Env = {
  Variables: {
    account: Account;
    key: string;
    /** The request named a connected account with `Stripe-Account`. */
    viaConnect: boolean;
    params: FormObject;
    body: string;
  };
};

/** The `/v1` routes, to mount at `/v1`. */
export function apiRoutes(ctx: Ctx): Hono<Env> {
  const { store, billing } = ctx;
  const api = new Hono<Env>();
  api.use("*", authenticate(ctx), idempotent(new Set()));

  const account = (c: Context<Env>) => c.get("account");
  const params = (c: Context<Env>) => c.get("params");
  const get = (c: Context<Env>, object: string) =>
    store.get(account(c), object, c.req.param("id")!);
  const list = (c: Context<Env>, object: string, keep?: (o: Obj) => boolean) =>
    store.list(account(c), object, `/v1${c.req.path.slice(3)}`, params(c), keep);
  const send = (c: Context<Env>, body: unknown) =>
    c.json(expand(store, account(c), body, params(c)));

  api.get("/account", (c) => send(c, accountObject(account(c))));
  // A platform reads its own account or one connected to it (as `Stripe-Account` would allow).
  api.get("/accounts/:id", (c) => {
    const id = c.req.param("id");
    if (id === account(c).id) return send(c, accountObject(account(c)));
    return send(c, accountObject(connectedAccount(ctx, c.get("key"), account(c), id)));
  });

  // Products
  api.post("/products", (c) => send(c, createProduct(store, account(c), params(c))));
  api.get("/products", (c) => send(c, list(c, "product", filters(params(c), ["active"]))));
  api.get("/products/search", (c) => send(c, search(c, "product")));
  api.get("/products/:id", (c) => send(c, get(c, "product")));
  api.post("/products/:id", (c) => send(c, updateProduct(store, get(c, "product"), params(c))));
  api.delete("/products/:id", (c) => {
    const product = get(c, "product");
    if (
      Object.values(account(c).objects).some((o) =>
        o.object === "price" && o.product === product.id
      )
    ) {
      throw StripeApiError.invalid(
        "This product cannot be deleted because it has one or more user-created prices.",
      );
    }
    delete account(c).objects[product.id];
    return send(c, { id: product.id, object: "product", deleted: true });
  });

  // Prices
  api.post("/prices", (c) => send(c, createPrice(store, account(c), params(c))));
  api.get("/prices", (c) => {
    const lookupKeys = strings(params(c), "lookup_keys");
    const interval = str(params(c), "recurring.interval");
    return send(
      c,
      list(c, "price", (o) => {
        const price = o as Price;
        return filters(params(c), ["product", "active", "currency", "type"])(o) &&
          (!lookupKeys || lookupKeys.includes(String(price.lookup_key))) &&
          (!interval || price.recurring?.interval === interval);
      }),
    );
  });
  api.get("/prices/search", (c) => send(c, search(c, "price")));
  api.get("/prices/:id", (c) => send(c, get(c, "price")));
  api.post(
    "/prices/:id",
    (c) => send(c, updatePrice(account(c), get(c, "price") as Price, params(c))),
  );

  // Webhook endpoints: the signing secret is shown only on creation.
  // `connect=true`: the endpoint receives the events of the accounts connected to this platform.
  api.post(
    "/webhook_endpoints",
    (c) =>
      send(
        c,
        createWebhookEndpoint(
          store,
          account(c),
          params(c),
          bool(params(c), "connect") ? ctx.connect.register(account(c)).id : null,
        ),
      ),
  );
  api.get("/webhook_endpoints", (c) => {
    const page = list(c, "webhook_endpoint");
    return send(c, { ...page, data: page.data.map(hideSecret) });
  });
  api.get("/webhook_endpoints/:id", (c) => send(c, hideSecret(get(c, "webhook_endpoint"))));
  api.post(
    "/webhook_endpoints/:id",
    (c) => send(c, hideSecret(updateWebhookEndpoint(get(c, "webhook_endpoint"), params(c)))),
  );
  api.delete("/webhook_endpoints/:id", (c) => {
    const endpoint = get(c, "webhook_endpoint");
    delete account(c).objects[endpoint.id];
    return send(c, { id: endpoint.id, object: "webhook_endpoint", deleted: true });
  });

  // Customers
  api.post("/customers", (c) => send(c, createCustomer(store, account(c), params(c))));
  api.get("/customers", (c) => send(c, list(c, "customer", filters(params(c), ["email"]))));
  api.get("/customers/search", (c) => send(c, search(c, "customer")));
  api.get("/customers/:id", (c) => send(c, get(c, "customer")));
  api.post("/customers/:id", (c) => send(c, updateCustomer(get(c, "customer"), params(c))));

  // Checkout and the billing portal
  api.post(
    "/checkout/sessions",
    (c) => send(c, createCheckoutSession(store, account(c), params(c), ctx.baseUrl)),
  );
  api.get(
    "/checkout/sessions",
    (c) =>
      send(
        c,
        list(c, "checkout.session", filters(params(c), ["customer", "subscription", "status"])),
      ),
  );
  api.get("/checkout/sessions/:id", (c) => send(c, get(c, "checkout.session")));
  api.get(
    "/checkout/sessions/:id/line_items",
    (c) => send(c, checkoutLineItems(store, account(c), get(c, "checkout.session"))),
  );
  api.post("/checkout/sessions/:id/expire", (c) => {
    const session = get(c, "checkout.session");
    if (session.status !== "open") {
      throw StripeApiError.invalid(
        `Only Checkout Sessions with a status of \`open\` can be expired.`,
      );
    }
    return send(c, Object.assign(session, { status: "expired", url: null }));
  });
  api.post(
    "/billing_portal/sessions",
    (c) => send(c, createPortalSession(store, account(c), params(c), ctx.baseUrl)),
  );

  // Subscriptions: lists leave out canceled ones unless `status` says otherwise, as Stripe does.
  api.post(
    "/subscriptions",
    async (c) => send(c, (await billing.createSubscription(account(c), params(c))).subscription),
  );
  api.get("/subscriptions", (c) => {
    const status = str(params(c), "status");
    const price = str(params(c), "price");
    return send(
      c,
      list(c, "subscription", (o) => {
        const sub = o as Subscription;
        return filters(params(c), ["customer"])(o) &&
          (status === "all" || (status ? sub.status === status : sub.status !== "canceled")) &&
          (!price || sub.items.data.some((i) => i.price.id === price));
      }),
    );
  });
  api.get("/subscriptions/search", (c) => send(c, search(c, "subscription")));
  api.get("/subscriptions/:id", (c) => send(c, get(c, "subscription")));
  api.post("/subscriptions/:id", async (c) => {
    const sub = get(c, "subscription") as Subscription;
    return send(c, (await billing.updateSubscription(account(c), sub, params(c))).subscription);
  });
  api.delete("/subscriptions/:id", async (c) => {
    const sub = get(c, "subscription") as Subscription;
    return send(c, (await billing.cancel(account(c), sub)).subscription);
  });

  // Invoices and events (read-only)
  api.get(
    "/invoices",
    (c) => send(c, list(c, "invoice", filters(params(c), ["customer", "subscription", "status"]))),
  );
  api.get("/invoices/:id", (c) => send(c, get(c, "invoice")));
  // Read through `Stripe-Account`, an event names its account, as Connect deliveries do.
  const seen = (c: Context<Env>, event: Obj) =>
    c.get("viaConnect") ? connectView(event, account(c).id) : event;
  api.get("/events", (c) => {
    const types = strings(params(c), "types");
    const page = list(
      c,
      "event",
      (o) => filters(params(c), ["type"])(o) && (!types || types.includes(String(o.type))),
    );
    return send(c, { ...page, data: page.data.map((e) => seen(c, e)) });
  });
  api.get("/events/:id", (c) => send(c, seen(c, get(c, "event"))));

  api.all("*", (c) => {
    throw StripeApiError.unknownUrl(c.req.method, c.req.path);
  });

  function search(c: Context<Env>, object: string) {
    const query = required(params(c), "query");
    const page = list(c, object, matcher(query));
    return { ...page, object: "search_result", next_page: null, url: `/v1/${object}s/search` };
  }
  return api;
}

/**
 * Reads the key (Bearer, or Basic as `curl -u sk_…:` sends it), the `Stripe-Account` header and the
 * request's parameters. With `Stripe-Account`, the request acts on that account, which must be
 * connected to the key's platform (https://docs.stripe.com/connect/authentication).
 */
function authenticate(ctx: Ctx): MiddlewareHandler<Env> {
  return async function authenticate(c, next) {
    const header = c.req.header("authorization") ?? "";
    const [scheme, value = ""] = header.split(/\s+/, 2);
    const key = /^basic$/i.test(scheme)
      ? atob(value).split(":")[0]
      : /^bearer$/i.test(scheme)
      ? value
      : "";
    if (!key) throw StripeApiError.noKey();
    const own = ctx.store.accountForKey(key);
    const named = c.req.header("stripe-account");
    const viaConnect = Boolean(named && named !== own.id);
    c.set("key", key);
    c.set("viaConnect", viaConnect);
    c.set("account", viaConnect ? connectedAccount(ctx, key, own, named!) : own);
    const body = c.req.method === "POST" ? await c.req.text() : "";
    c.set("body", body);
    c.set("params", parseForm(c.req.method === "POST" ? body : new URL(c.req.url).search.slice(1)));
    c.header("Request-Id", newId("req", 14));
    c.header("Stripe-Version", c.req.header("stripe-version") ?? API_VERSION);
    await next();
  };
}

/** The account `id` connected to the platform `own` (key `key`); Stripe's 403 otherwise. */
function connectedAccount(ctx: Ctx, key: string, own: Account, id: string): Account {
  const connection = ctx.connect.connectionOf(id);
  if (connection?.platform === own.id) return ctx.store.accounts[id];
  if (!ctx.connect.applicationOf(own)) throw StripeApiError.notPlatform();
  throw StripeApiError.noAccess(key, id);
}

/**
 * Stripe's idempotency: a POST with a key seen before in this account answers the saved response
 * (`Idempotent-Replayed: true`); the same key with other parameters is an `idempotency_error`;
 * while the first request runs, a second one gets 409 (stripe-node retries it).
 * https://docs.stripe.com/api/idempotent_requests
 */
function idempotent(inFlight: Set<string>): MiddlewareHandler<Env> {
  return async function idempotent(c, next) {
    const key = c.req.header("idempotency-key");
    if (c.req.method !== "POST" || !key) return await next();
    const account = c.get("account");
    const saved = account.idempotency[key];
    if (saved) {
      if (saved.path !== c.req.path || saved.body !== c.get("body")) {
        throw new StripeApiError(400, {
          type: "idempotency_error",
          message: `Keys for idempotent requests can only be used with the same parameters they ` +
            `were first used with. Try using a key other than '${key}' if you meant to execute a ` +
            `different request.`,
        });
      }
      return new Response(saved.response, {
        status: saved.status,
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": key,
          "Idempotent-Replayed": "true",
          "Request-Id": saved.requestId,
        },
      });
    }
    const slot = `${account.id} ${key}`;
    if (inFlight.has(slot)) {
      throw new StripeApiError(409, {
        type: "idempotency_error",
        message: "There is currently another in-progress request using this Idempotent Key.",
      });
    }
    inFlight.add(slot);
    try {
      await next();
    } finally {
      inFlight.delete(slot);
    }
    c.header("Idempotency-Key", key);
    // Stripe saves every result but 5xx, so a retried 400 answers 400 again.
    if (c.res.status < 500) {
      account.idempotency[key] = {
        method: "POST",
        path: c.req.path,
        body: c.get("body"),
        status: c.res.status,
        response: await c.res.clone().text(),
        requestId: c.res.headers.get("request-id") ?? "",
      };
    }
  };
}

/** A list filter keeping objects whose `fields` equal the given parameters (when given). */
function filters(params: FormObject, fields: string[]) {
  const wanted = fields.flatMap((f) => {
    const value = str(params, f);
    return value === undefined ? [] : [[f, value] as const];
  });
  return (o: Obj) => wanted.every(([f, v]) => String(o[f]) === v);
}

/**
 * Stripe's search query language, the part code uses: `field:'value'` and
 * `metadata['key']:'value'` clauses joined by AND. https://docs.stripe.com/search
 */
function matcher(query: string) {
  const clauses = query.split(/\s+AND\s+/i).map((clause) => {
    const m = /^\s*(metadata\[['"](.+?)['"]\]|[a-z_]+)\s*:\s*['"](.*)['"]\s*$/.exec(clause);
    if (!m) throw StripeApiError.invalid(`Unsupported search query: ${clause}`, "query");
    return { field: m[2] ? null : m[1], metaKey: m[2], value: m[3] };
  });
  return (o: Obj) =>
    clauses.every(({ field, metaKey, value }) =>
      field
        ? String(o[field]) === value
        : (o.metadata as Record<string, string> | null)?.[metaKey] === value
    );
}

/**
 * Applies `expand[]`: each dotted path replaces an id by its object (`customer`,
 * `data.subscription`, `items.data.price.product`); `line_items` on a Checkout Session lists its
 * items. Works on a copy: stored objects keep ids.
 */
function expand(store: Store, account: Account, body: unknown, params: FormObject): unknown {
  const paths = strings(params, "expand") ?? [];
  if (paths.length === 0) return body;
  const copy = structuredClone(body);
  for (const path of paths) expandPath(store, account, copy, path.split("."));
  return copy;
}

function expandPath(store: Store, account: Account, node: unknown, path: string[]) {
  if (Array.isArray(node)) return node.forEach((n) => expandPath(store, account, n, path));
  if (!node || typeof node !== "object") return;
  const obj = node as Record<string, unknown>;
  const [head, ...rest] = path;
  if (head === "line_items" && obj.object === "checkout.session") {
    const session = account.objects[String(obj.id)];
    obj.line_items = session && checkoutLineItems(store, account, session);
  } else if (typeof obj[head] === "string" && account.objects[obj[head] as string]) {
    obj[head] = structuredClone(account.objects[obj[head] as string]);
  }
  if (rest.length > 0) expandPath(store, account, obj[head], rest);
}
