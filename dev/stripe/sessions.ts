/** Checkout Sessions and billing-portal sessions: what the hosted pages (pages.ts) serve. */
import { StripeApiError } from "./errors.ts";
import { type FormObject, httpUrl, int, metadata, objects, required, str } from "./form.ts";
import { base, type Price, productName } from "./catalog.ts";
import { type Account, newId, type Obj, type Store } from "./store.ts";

/**
 * `POST /v1/checkout/sessions`, `mode=subscription`: validates the line items (existing, active,
 * at least one recurring price, a quantity each) and keeps them with `subscription_data[metadata]`
 * for the payment.
 */
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
