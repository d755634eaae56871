/**
 * Return URLs of end-user billing (`successUrl`, `cancelUrl`, `returnUrl`): refused with 400 when a
 * URL parser would have to repair them, and passed on as the parser's serialisation.
 */
import assert from "node:assert/strict";
import {
  CreateCheckoutBodySchema,
  CustomerPortalBodySchema,
  ReturnUrlSchema,
} from "../../lib/schemas/billing.ts";

const REFUSED: [string, string][] = [
  ["no // after the scheme", "https:evil.example"],
  ["one / after the scheme", "https:/evil.example"],
  ["three / after the scheme", "https:///evil.example"],
  ["http without //", "http:evil.example/x"],
  ["credentials", "https://a@evil.example"],
  ["user and password", "https://user:pass@app.example.com/ok"],
  ["empty credentials", "https://@app.example.com/ok"],
  ["empty user and password", "https://:@app.example.com/ok"],
  ["a backslash for a slash", "https:\\\\evil.example"],
  ["a backslash in the authority", "https://app.example.com\\@evil.example"],
  ["a backslash in the path", "https://app.example.com/a\\b"],
  ["CR/LF inside", "https://app.example.com/ok\r\nSet-Cookie: x=1"],
  ["LF inside the host", "https://app.exa\nmple.com/"],
  ["a tab inside", "https://app.example.com/o\tk"],
  ["a leading space", " https://app.example.com/ok"],
  ["a trailing space", "https://app.example.com/ok "],
  ["a space inside", "https://app.example.com/o k"],
  ["a trailing newline", "https://app.example.com/ok\n"],
  ["NUL", "https://app.example.com/\u0000"],
  ["a C1 control", "https://app.example.com/\u0085"],
  ["U+2028", "https://app.example.com/\u2028"],
  ["a no-break space", "https://app.example.com/\u00a0"],
  ["no host", "https://"],
  ["no host, a path", "https:///"],
  ["no host, a query", "https://?x=1"],
  ["relative", "/billing/ok"],
  ["protocol-relative", "//evil.example/"],
  ["ftp", "ftp://files.example.com/"],
  ["javascript", "javascript:alert(1)"],
  ["data", "data:text/html,<script>alert(1)</script>"],
  ["mailto", "mailto:x@example.com"],
  ["a bad port", "https://app.example.com:99999/"],
  ["too long", `https://app.example.com/${"x".repeat(2048)}`],
  ["empty", ""],
];

const ACCEPTED: [string, string, string][] = [
  ["plain https", "https://app.example.com/billing/ok", "https://app.example.com/billing/ok"],
  ["plain http (local development)", "http://localhost:3000/ok", "http://localhost:3000/ok"],
  ["a bare origin gets its /", "https://app.example.com", "https://app.example.com/"],
  // Stripe fills in {CHECKOUT_SESSION_ID}: the parser keeps the braces of a query as they are.
  [
    "Stripe's template in the query, a fragment",
    "https://app.example.com/ok?s={CHECKOUT_SESSION_ID}#top",
    "https://app.example.com/ok?s={CHECKOUT_SESSION_ID}#top",
  ],
  [
    "upper-case scheme and host, default port",
    "HTTPS://App.Example.COM:443/ok",
    "https://app.example.com/ok",
  ],
  ["a non-default port", "https://app.example.com:8443/ok", "https://app.example.com:8443/ok"],
  ["dot segments", "https://app.example.com/a/../ok", "https://app.example.com/ok"],
  ["non-ASCII path", "https://app.example.com/café", "https://app.example.com/caf%C3%A9"],
  ["an IDN host", "https://bücher.example/ok", "https://xn--bcher-kva.example/ok"],
  ["an IPv6 host", "http://[::1]:8000/ok", "http://[::1]:8000/ok"],
  ["an @ in the path", "https://app.example.com/u/@ada", "https://app.example.com/u/@ada"],
];

Deno.test("return URLs a parser would repair, with credentials, or not absolute http(s) are refused", () => {
  for (const [name, url] of REFUSED) {
    const parsed = ReturnUrlSchema.safeParse(url);
    assert.equal(parsed.success, false, `${name}: ${JSON.stringify(url)} → ${parsed.data}`);
  }
});

Deno.test("accepted return URLs come out as the parser's serialisation (new URL(s).href)", () => {
  for (const [name, url, href] of ACCEPTED) {
    const parsed = ReturnUrlSchema.safeParse(url);
    assert.deepEqual(parsed, { success: true, data: href }, name);
    assert.equal(parsed.data, new URL(url).href, name);
  }
});

Deno.test("the billing bodies name the refused URL field", () => {
  const checkout = CreateCheckoutBodySchema.safeParse({
    tier: "pro",
    successUrl: "https://app.example.com/ok",
    cancelUrl: "https:evil.example",
  });
  assert.equal(checkout.success, false);
  assert.deepEqual(checkout.error!.issues.map((i) => i.path), [["cancelUrl"]]);
  assert.match(checkout.error!.issues[0].message, /http:\/\/ or https:\/\//);
  const portal = CustomerPortalBodySchema.safeParse({ returnUrl: "https://a@evil.example" });
  assert.equal(portal.success, false);
  assert.deepEqual(portal.error!.issues.map((i) => i.path), [["returnUrl"]]);
  assert.match(portal.error!.issues[0].message, /credentials/);
});
