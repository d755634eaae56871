/**
 * Stripe's objects, built and updated from request parameters. Shapes follow the API reference
 * (https://docs.stripe.com/api) and stripe@23's types; fields the local server has no use for are
 * null or empty, as they are for a plain test-mode account.
 */
import { StripeApiError } from "./errors.ts";
import { bool, type FormObject, int, metadata, objects, required, str, strings } from "./form.ts";
import { type Account, newId, type Obj, type Store } from "./store.ts";

export interface Price extends Obj {
  object: "price";
  active: boolean;
  currency: string;
  unit_amount: number | null;
  product: string;
  lookup_key: string | null;
  recurring: { interval: Interval; interval_count: number; [field: string]: unknown } | null;
}
export interface Subscription extends Obj {
  object: "subscription";
  status: string;
  customer: string;
  metadata: Record<string, string>;
  cancel_at_period_end: boolean;
  items: { object: "list"; data: SubscriptionItem[]; [field: string]: unknown };
}
export interface SubscriptionItem extends Obj {
  price: Price;
  quantity: number;
  current_period_start: number;
  current_period_end: number;
}
type Interval = "day" | "week" | "month" | "year";

const base = (account: Account, store: Store) => ({
  created: store.unix(),
  livemode: account.livemode,
});

/** `GET /v1/account`: the account behind the key. */
export function accountObject(account: Account): Obj {
  return {
    id: account.id,
    object: "account",
    business_profile: { name: null, support_email: null, url: null },
    business_type: null,
    capabilities: { card_payments: "active", transfers: "active" },
    charges_enabled: true,
    controller: { type: "account" },
    country: "US",
    created: account.created,
    default_currency: "usd",
    details_submitted: true,
    email: null,
    metadata: {},
    payouts_enabled: true,
    settings: { dashboard: { display_name: `Local ${account.id}`, timezone: "Etc/UTC" } },
    type: "standard",
  };
}

// --- Products -----------------------------------------------------------------------------

export function createProduct(store: Store, account: Account, p: FormObject): Obj {
  const now = store.unix();
  return store.insert(account, {
    id: str(p, "id") || newId("prod", 14),
    object: "product",
    active: bool(p, "active") ?? true,
    ...base(account, store),
    default_price: null,
    description: str(p, "description") ?? null,
    images: [],
    marketing_features: [],
    metadata: metadata(p),
    name: required(p, "name"),
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: "service",
    unit_label: null,
    updated: now,
    url: null,
  });
}

export function updateProduct(store: Store, product: Obj, p: FormObject): Obj {
  return Object.assign(product, {
    name: str(p, "name") || product.name,
    description: str(p, "description") ?? product.description,
    active: bool(p, "active") ?? product.active,
    default_price: str(p, "default_price") ?? product.default_price,
    metadata: metadata(p, product.metadata as Record<string, string>),
    updated: store.unix(),
  });
}

// --- Prices -------------------------------------------------------------------------------

export function createPrice(store: Store, account: Account, p: FormObject): Price {
  const currency = required(p, "currency").toLowerCase();
  const productData = str(p, "product_data.name");
  const product = productData
    ? createProduct(store, account, { name: productData }).id
    : store.get(account, "product", required(p, "product"), "product").id;
  const unitAmount = int(p, "unit_amount");
  if (unitAmount === undefined) throw StripeApiError.missingParam("unit_amount");
  if (unitAmount < 0) throw StripeApiError.invalid("Invalid unit_amount", "unit_amount");
  const interval = str(p, "recurring.interval");
  if (interval !== undefined && !["day", "week", "month", "year"].includes(interval)) {
    throw StripeApiError.invalid(`Invalid recurring[interval]: ${interval}`, "recurring[interval]");
  }
  const price: Price = {
    id: newId("price"),
    object: "price",
    active: bool(p, "active") ?? true,
    billing_scheme: "per_unit",
    ...base(account, store),
    currency,
    custom_unit_amount: null,
    lookup_key: null,
    metadata: metadata(p),
    nickname: str(p, "nickname") ?? null,
    product,
    recurring: interval
      ? {
        interval: interval as Interval,
        interval_count: int(p, "recurring.interval_count") ?? 1,
        meter: null,
        trial_period_days: null,
        usage_type: "licensed",
      }
      : null,
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: interval ? "recurring" : "one_time",
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
  };
  setLookupKey(account, price, p);
  return store.insert(account, price);
}

/** Prices can change only `active`, `metadata`, `nickname` and `lookup_key` (amounts are fixed). */
export function updatePrice(account: Account, price: Price, p: FormObject): Price {
  setLookupKey(account, price, p);
  return Object.assign(price, {
    active: bool(p, "active") ?? price.active,
    nickname: str(p, "nickname") ?? price.nickname,
    metadata: metadata(p, price.metadata as Record<string, string>),
  });
}

/** A lookup key is unique in an account; `transfer_lookup_key=true` moves it from its holder. */
function setLookupKey(account: Account, price: Price, p: FormObject) {
  const key = str(p, "lookup_key");
  if (key === undefined) return;
  const holder = Object.values(account.objects).find((o) =>
    o.object === "price" && o.lookup_key === key && o.id !== price.id
  );
  if (holder && !bool(p, "transfer_lookup_key")) {
    throw StripeApiError.invalid(
      `A price (\`${holder.id}\`) already uses that lookup key.`,
      "lookup_key",
    );
  }
  if (holder) holder.lookup_key = null;
  price.lookup_key = key || null;
}

// --- Customers ----------------------------------------------------------------------------

export function createCustomer(store: Store, account: Account, p: FormObject): Obj {
  return store.insert(account, {
    id: newId("cus", 14),
    object: "customer",
    address: null,
    balance: 0,
    ...base(account, store),
    currency: null,
    default_source: null,
    delinquent: false,
    description: str(p, "description") ?? null,
    discount: null,
    email: str(p, "email") ?? null,
    invoice_prefix: newId("X", 6).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null },
    metadata: metadata(p),
    name: str(p, "name") ?? null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  });
}

export function updateCustomer(customer: Obj, p: FormObject): Obj {
  return Object.assign(customer, {
    email: str(p, "email") ?? customer.email,
    name: str(p, "name") ?? customer.name,
    description: str(p, "description") ?? customer.description,
    metadata: metadata(p, customer.metadata as Record<string, string>),
  });
}

// --- Webhook endpoints --------------------------------------------------------------------

export function createWebhookEndpoint(store: Store, account: Account, p: FormObject): Obj {
  const url = httpUrl(p, "url", true)!;
  const events = strings(p, "enabled_events");
  if (!events || events.length === 0) throw StripeApiError.missingParam("enabled_events");
  return store.insert(account, {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: str(p, "api_version") ?? null,
    application: null,
    ...base(account, store),
    description: str(p, "description") ?? null,
    enabled_events: events,
    metadata: metadata(p),
    secret: `whsec_${newId("x", 32).slice(2)}`,
    status: "enabled",
    url,
  });
}

export function updateWebhookEndpoint(endpoint: Obj, p: FormObject): Obj {
  const disabled = bool(p, "disabled");
  return Object.assign(endpoint, {
    url: httpUrl(p, "url") ?? endpoint.url,
    enabled_events: strings(p, "enabled_events") ?? endpoint.enabled_events,
    description: str(p, "description") ?? endpoint.description,
    metadata: metadata(p, endpoint.metadata as Record<string, string>),
    status: disabled === undefined ? endpoint.status : disabled ? "disabled" : "enabled",
  });
}

/** Stripe shows an endpoint's signing secret only in the answer that created it. */
export function hideSecret(endpoint: Obj): Obj {
  const { secret: _secret, ...shown } = endpoint;
  return shown as Obj;
}

// --- Checkout and the billing portal ------------------------------------------------------

export function createCheckoutSession(
  store: Store,
  account: Account,
  p: FormObject,
  baseUrl: string,
): Obj {
  const mode = required(p, "mode");
  if (mode !== "subscription") {
    throw StripeApiError.invalid(`The local Stripe supports mode=subscription only.`, "mode");
  }
  const customer = str(p, "customer");
  const email = str(p, "customer_email");
  if (customer && email) {
    throw StripeApiError.invalid(
      "You may only specify one of these parameters: customer, customer_email.",
      "customer",
    );
  }
  if (customer) store.get(account, "customer", customer, "customer");
  const lines = objects(p, "line_items");
  if (!lines?.length) throw StripeApiError.missingParam("line_items");
  const lineItems = lines.map((line, i) => {
    const param = `line_items[${i}]`;
    const price = store.get(account, "price", required(line, "price"), `${param}[price]`) as Price;
    if (!price.active) {
      throw StripeApiError.invalid(
        "The price specified is inactive. This field only accepts active prices.",
        `${param}[price]`,
      );
    }
    const quantity = int(line, "quantity");
    if (quantity === undefined) throw StripeApiError.missingParam(`${param}[quantity]`);
    return { price, quantity };
  });
  if (!lineItems.some(({ price }) => price.recurring)) {
    throw StripeApiError.invalid(
      "You must provide at least one recurring price in `subscription` mode when using prices.",
      "line_items",
    );
  }
  const total = lineItems.reduce((sum, l) => sum + (l.price.unit_amount ?? 0) * l.quantity, 0);
  const id = newId(account.livemode ? "cs_live" : "cs_test", 40);
  const created = store.unix();
  account.checkout[id] = {
    lineItems: lineItems.map((l) => ({ price: l.price.id, quantity: l.quantity })),
    subscriptionMetadata: metadata(p, {}, "subscription_data.metadata"),
  };
  return store.insert(account, {
    id,
    object: "checkout.session",
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_address_collection: null,
    cancel_url: httpUrl(p, "cancel_url") ?? null,
    client_reference_id: str(p, "client_reference_id") ?? null,
    client_secret: null,
    consent: null,
    created,
    currency: lineItems[0].price.currency,
    custom_fields: [],
    customer: customer ?? null,
    customer_creation: customer ? null : "always",
    customer_details: null,
    customer_email: email ?? null,
    expires_at: created + 24 * 3600,
    invoice: null,
    livemode: account.livemode,
    locale: null,
    metadata: metadata(p),
    mode,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_types: ["card"],
    payment_status: "unpaid",
    recovered_from: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: httpUrl(p, "success_url") ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: `${baseUrl}/checkout/${id}`,
  });
}

/** `GET /v1/checkout/sessions/:id/line_items` and `expand[]=line_items`. */
export function checkoutLineItems(store: Store, account: Account, session: Obj) {
  const data = account.checkout[session.id].lineItems.map(({ price, quantity }, i) => {
    const p = store.get(account, "price", price) as Price;
    const amount = (p.unit_amount ?? 0) * quantity;
    return {
      id: `li_${session.id.slice(-20)}${i}`,
      object: "item",
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: p.currency,
      description: productName(account, p),
      price: structuredClone(p),
      quantity,
    };
  });
  return {
    object: "list",
    data,
    has_more: false,
    url: `/v1/checkout/sessions/${session.id}/line_items`,
  };
}

export function createPortalSession(
  store: Store,
  account: Account,
  p: FormObject,
  baseUrl: string,
): Obj {
  const customer = store.get(account, "customer", required(p, "customer"), "customer").id;
  const id = newId("bps");
  return store.insert(account, {
    id,
    object: "billing_portal.session",
    configuration: `bpc_${account.id.slice(5)}`,
    ...base(account, store),
    customer,
    flow: null,
    locale: null,
    on_behalf_of: null,
    return_url: httpUrl(p, "return_url") ?? null,
    url: `${baseUrl}/portal/${id}`,
  });
}

// --- Subscriptions and invoices -----------------------------------------------------------

/** The end of a billing period that starts at `start` (unix seconds), month ends clamped. */
export function periodEnd(
  start: number,
  recurring: { interval: Interval; interval_count: number },
): number {
  const d = new Date(start * 1000);
  const n = recurring.interval_count;
  if (recurring.interval === "day") d.setUTCDate(d.getUTCDate() + n);
  if (recurring.interval === "week") d.setUTCDate(d.getUTCDate() + 7 * n);
  if (recurring.interval === "month" || recurring.interval === "year") {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    if (recurring.interval === "month") d.setUTCMonth(d.getUTCMonth() + n);
    else d.setUTCFullYear(d.getUTCFullYear() + n);
    const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, lastDay));
  }
  return Math.floor(d.getTime() / 1000);
}

export function subscriptionItem(
  store: Store,
  subscription: string,
  price: Price,
  quantity: number,
  periodStart: number,
): SubscriptionItem {
  return {
    id: newId("si", 14),
    object: "subscription_item",
    billing_thresholds: null,
    created: store.unix(),
    current_period_start: periodStart,
    current_period_end: periodEnd(periodStart, price.recurring!),
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription,
    tax_rates: [],
  };
}

/** An active subscription (not yet stored) for `customer` with `items`. */
export function newSubscription(
  store: Store,
  account: Account,
  customer: string,
  items: { price: Price; quantity: number }[],
  meta: Record<string, string>,
): Subscription {
  const id = newId("sub");
  const now = store.unix();
  const subscription: Subscription = {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, disabled_reason: null, liability: null },
    billing_cycle_anchor: now,
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: "charge_automatically",
    created: now,
    currency: items[0].price.currency,
    customer,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    ended_at: null,
    items: {
      object: "list",
      data: items.map((i) => subscriptionItem(store, id, i.price, i.quantity, now)),
      has_more: false,
      total_count: items.length,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: account.livemode,
    metadata: meta,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_start: null,
  };
  syncPeriod(subscription);
  return subscription;
}

/**
 * Stripe moved `current_period_start/end` from the subscription to its items (API 2025-03-31);
 * both are kept so code written for either version reads them.
 */
export function syncPeriod(subscription: Subscription) {
  const first = subscription.items.data[0];
  subscription.current_period_start = first?.current_period_start ?? null;
  subscription.current_period_end = first?.current_period_end ?? null;
  subscription.items.total_count = subscription.items.data.length;
}

/** An invoice for the subscription's current period: `paid`, or `open` after a failed attempt. */
export function newInvoice(
  store: Store,
  account: Account,
  subscription: Subscription,
  status: "paid" | "open",
  reason: "subscription_create" | "subscription_cycle" | "subscription_update",
): Obj {
  const id = newId("in");
  const now = store.unix();
  const customer = account.objects[subscription.customer];
  const lines = subscription.items.data.map((item) => ({
    id: newId("il"),
    object: "line_item",
    amount: (item.price.unit_amount ?? 0) * item.quantity,
    currency: item.price.currency,
    description: `${item.quantity} × ${productName(account, item.price)} (at ${
      formatPrice(item.price)
    })`,
    discountable: true,
    invoice: id,
    livemode: account.livemode,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        subscription: subscription.id,
        subscription_item: item.id,
      },
    },
    period: { start: item.current_period_start, end: item.current_period_end },
    pricing: {
      type: "price_details",
      price_details: { price: item.price.id, product: item.price.product },
      unit_amount_decimal: item.price.unit_amount_decimal,
    },
    quantity: item.quantity,
  }));
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const paid = status === "paid";
  return store.insert(account, {
    id,
    object: "invoice",
    account_country: "US",
    account_name: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    auto_advance: !paid,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_reason: reason,
    collection_method: "charge_automatically",
    created: now,
    currency: subscription.currency,
    customer: subscription.customer,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: now,
    ending_balance: 0,
    footer: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    lines: { object: "list", data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: account.livemode,
    metadata: {},
    next_payment_attempt: paid ? null : now + 3 * 24 * 3600,
    number: `${String(customer?.invoice_prefix ?? "LOCAL")}-${
      String(Object.keys(account.objects).length).padStart(4, "0")
    }`,
    on_behalf_of: null,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: {
        metadata: { ...subscription.metadata },
        subscription: subscription.id,
      },
    },
    period_end: subscription.current_period_end,
    period_start: subscription.current_period_start,
    starting_balance: 0,
    statement_descriptor: null,
    status,
    status_transitions: {
      finalized_at: now,
      marked_uncollectible_at: null,
      paid_at: paid ? now : null,
      voided_at: null,
    },
    // Before API 2025-03-31 the subscription id sat on the invoice itself; kept for older code.
    subscription: subscription.id,
    subtotal: total,
    total,
    webhooks_delivered_at: now,
  });
}

function planOf(price: Price) {
  return {
    id: price.id,
    object: "plan",
    active: price.active,
    amount: price.unit_amount,
    billing_scheme: "per_unit",
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval,
    interval_count: price.recurring?.interval_count,
    livemode: price.livemode,
    metadata: price.metadata,
    nickname: price.nickname,
    product: price.product,
    usage_type: "licensed",
  };
}

// --- Display helpers (hosted pages, invoice lines) ----------------------------------------

export function productName(account: Account, price: Price): string {
  return String(account.objects[price.product]?.name ?? price.product);
}

/** `$29.00 / month`, `€5.00 / 3 months`, `$10.00` */
export function formatPrice(price: Price): string {
  const amount = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: price.currency.toUpperCase(),
  }).format((price.unit_amount ?? 0) / 100);
  const r = price.recurring;
  if (!r) return amount;
  return r.interval_count === 1
    ? `${amount} / ${r.interval}`
    : `${amount} / ${r.interval_count} ${r.interval}s`;
}

function httpUrl(p: FormObject, name: string, require = false): string | undefined {
  const value = require ? required(p, name) : str(p, name);
  if (value === undefined || value === "") return undefined;
  // Stripe leaves the {CHECKOUT_SESSION_ID} template in place; it must still parse as a URL.
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw StripeApiError.invalid("Not a valid URL", name);
  }
  return value;
}
