/** Stripe's bracket-notation form encoding, as stripe-node writes it. */
import assert from "node:assert/strict";
import { metadata, parseForm } from "../../dev/stripe/form.ts";
import { StripeApiError } from "../../dev/stripe/errors.ts";

Deno.test("parseForm nests bracketed keys into objects and indexed keys into arrays", () => {
  const body = "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1" +
    "&line_items[1][price]=price_2&metadata[platformId]=plat_1" +
    "&subscription_data[metadata][tier]=pro&success_url=https%3A%2F%2Fa.test%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D";
  assert.deepEqual(parseForm(body), {
    mode: "subscription",
    line_items: [{ price: "price_1", quantity: "1" }, { price: "price_2" }],
    metadata: { platformId: "plat_1" },
    subscription_data: { metadata: { tier: "pro" } },
    success_url: "https://a.test/ok?s={CHECKOUT_SESSION_ID}",
  });
});

Deno.test("parseForm reads [] and [n] arrays, percent-encoded brackets, and + as space", () => {
  assert.deepEqual(parseForm("enabled_events[]=a&enabled_events[]=b&expand[0]=customer"), {
    enabled_events: ["a", "b"],
    expand: ["customer"],
  });
  assert.deepEqual(parseForm("lookup_keys%5B0%5D=pro&name=Pro+plan"), {
    lookup_keys: ["pro"],
    name: "Pro plan",
  });
  assert.deepEqual(parseForm("items[10][price]=b&items[2][price]=a"), {
    items: [{ price: "a" }, { price: "b" }],
  }, "indexes order the array");
  assert.deepEqual(parseForm(""), {});
});

Deno.test("metadata merges, removes keys set to empty, and clears on metadata=", () => {
  const current = { a: "1", b: "2" };
  assert.deepEqual(metadata(parseForm("metadata[b]=&metadata[c]=3"), current), { a: "1", c: "3" });
  assert.deepEqual(metadata(parseForm("metadata="), current), {});
  assert.deepEqual(metadata(parseForm("name=x"), current), current);
  assert.throws(() => metadata(parseForm("metadata[a][b]=1")), StripeApiError);
});
