/**
 * The account and its catalog: products, prices, customers and webhook endpoints, built and updated
 * from request parameters. Shapes follow the API reference (https://docs.stripe.com/api) and
 * stripe@23's types; fields the local server has no use for are null or empty, as they are for a
 * plain test-mode account.
 */
import { StripeApiError } from "./errors.ts";
import { bool, type FormObject, httpUrl, int, metadata, required, str, strings } from "./form.ts";
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
export type Interval = "day" | "week" | "month" | "year";

/** The fields every object of an account starts with. */
export const base = (account: Account, store: Store) => ({
  created: store.unix(),
  livemode: account.livemode,
});

/**
 * `GET /v1/account`: the account behind the key (or named by `Stripe-Account`). An account made on
 * the Connect consent page shows its name as `settings.dashboard.display_name` and
 * `business_profile.name`.
 */
export function accountObject(account: Account): Obj {
  return {
    id: account.id,
    object: "account",
    business_profile: {
      name: account.profile?.display_name ?? null,
      support_email: null,
      url: null,
    },
    business_type: null,
    capabilities: { card_payments: "active", transfers: "active" },
    charges_enabled: true,
    controller: { type: "account" },
    country: "US",
    created: account.created,
    default_currency: "usd",
    details_submitted: true,
    email: account.profile?.email ?? null,
    metadata: {},
    payouts_enabled: true,
    settings: {
      dashboard: {
        display_name: account.profile?.display_name ?? `Local ${account.id}`,
        timezone: "Etc/UTC",
      },
    },
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

/**
 * A webhook endpoint; `application` is the platform's client id for a Connect endpoint
 * (`connect=true`: it receives the events of connected accounts instead of the account's own).
 */
export function createWebhookEndpoint(
  store: Store,
  account: Account,
  p: FormObject,
  application: string | null = null,
): Obj {
  const url = httpUrl(p, "url", true)!;
  const events = strings(p, "enabled_events");
  if (!events || events.length === 0) throw StripeApiError.missingParam("enabled_events");
  return store.insert(account, {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: str(p, "api_version") ?? null,
    application,
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
