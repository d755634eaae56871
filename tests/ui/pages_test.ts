/**
 * The dashboard's pages through `app.request`: who may see them, what they render (the key
 * prefix, never the key), the HTML 404, and the static assets with their cache headers.
 */
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/encoding.ts";
import { serializeProps } from "../../lib/ui/island.tsx";
import { founderHeaders, json, payFounder, testApp } from "../_helpers/app.ts";

const USER = "user_ui_founder";
const PAGES = ["/dashboard", "/dashboard/billing", "/dashboard/tiers", "/dashboard/settings"];

/** Reads an HTML page after asserting status and content type; the body goes into failures. */
async function html(res: Response, status = 200): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text.slice(0, 500));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, text.slice(0, 500));
  assert.ok(text.startsWith("<!doctype html>"), text.slice(0, 200));
  return text;
}

async function signedIn(t: Awaited<ReturnType<typeof testApp>>, userId = USER) {
  const token = await t.signIn(userId);
  return founderHeaders(token, { via: "cookie" });
}

Deno.test("dashboard pages redirect to /sign-in when signed out, or with a bad session", async () => {
  await using t = await testApp();
  for (const path of PAGES) {
    for (const headers of [{}, { cookie: "__session=not.a.jwt" }] as Record<string, string>[]) {
      const res = await t.app.request(path, { headers });
      assert.equal(res.status, 302, `${path}: ${await res.text()}`);
      assert.equal(res.headers.get("location"), "/sign-in", path);
    }
  }
});

Deno.test("the marketing page and sign-in are complete HTML pages with the stylesheet", async () => {
  await using t = await testApp();
  const home = await html(await t.app.request("/"));
  assert.match(home, /<title>dream-api<\/title>/);
  assert.match(home, /\$29/);
  assert.match(home, /<link rel="stylesheet" href="\/static\/styles\.css\?v=[0-9a-f]{12}"/);
  assert.match(home, /name="viewport" content="width=device-width, initial-scale=1"/);

  const signIn = await html(await t.app.request("/sign-in"));
  assert.match(signIn, /<form method="post" action="\/sign-in\/dev"/);
  assert.match(signIn, /name="email"/);
  assert.doesNotMatch(signIn, /data-island="ClerkAuth"|clerk-js/);
});

Deno.test("GET /sign-in sends a signed-in founder on to the dashboard", async () => {
  await using t = await testApp();
  const res = await t.app.request("/sign-in", { headers: await signedIn(t) });
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard");
});

Deno.test("with Clerk configured, /sign-in mounts Clerk's sign-in and offers no dev form", async () => {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pem = `-----BEGIN PUBLIC KEY-----\n${
    encodeBase64(spki).match(/.{1,64}/g)!.join("\n")
  }\n-----END PUBLIC KEY-----`;
  const publishableKey = `pk_test_${btoa("clerk.example.com$")}`;
  await using t = await testApp({
    env: { CLERK_JWT_KEY: pem, CLERK_PUBLISHABLE_KEY: publishableKey },
  });
  const page = await html(await t.app.request("/sign-in"));
  assert.doesNotMatch(page, /action="\/sign-in\/dev"/);
  assert.match(page, /data-island="ClerkAuth"/);
  assert.ok(
    page.includes(serializeProps({ publishableKey, mode: "sign-in", redirectUrl: "/dashboard" })),
    page,
  );
});

Deno.test("an unpaid founder sees the subscribe button; tiers and settings lead to billing", async () => {
  await using t = await testApp();
  const headers = await signedIn(t);
  const overview = await html(await t.app.request("/dashboard", { headers }));
  assert.match(overview, /data-testid="subscribe-card"/);
  assert.match(overview, /data-island="StripeButton"/);
  assert.doesNotMatch(overview, /data-island="CreatePlatform"/);
  for (const path of ["/dashboard/tiers", "/dashboard/settings"]) {
    const res = await t.app.request(path, { headers });
    assert.equal(res.status, 302, `${path}: ${await res.text()}`);
    assert.equal(res.headers.get("location"), "/dashboard/billing", path);
  }
  const billing = await html(await t.app.request("/dashboard/billing", { headers }));
  assert.match(billing, /data-status="none"/);
  assert.match(billing, /data-island="StripeButton"/);
});

Deno.test("billing offers the portal: to manage a paid plan, and instead of a second checkout when a payment failed", async () => {
  await using t = await testApp();
  const headers = await signedIn(t);
  await payFounder(t.kv, USER, "active");
  const paid = await html(await t.app.request("/dashboard/billing", { headers }));
  assert.match(paid, /Manage billing/);
  assert.match(paid, /"endpoint":"\/dashboard\/api\/billing-portal"/);
  assert.doesNotMatch(paid, /Subscribe — \$29\/month/);

  await payFounder(t.kv, USER, "past_due");
  const failed = await html(await t.app.request("/dashboard/billing", { headers }));
  assert.match(failed, /Update your payment method/);
  assert.match(failed, /"endpoint":"\/dashboard\/api\/billing-portal"/);
  assert.doesNotMatch(failed, /Subscribe — \$29\/month/);

  await payFounder(t.kv, USER, "canceled");
  const ended = await html(await t.app.request("/dashboard/billing", { headers }));
  assert.match(ended, /Subscribe — \$29\/month/);
  assert.doesNotMatch(ended, /billing-portal/);
});

Deno.test("back from checkout, billing waits for the webhook, then goes on to the overview", async () => {
  await using t = await testApp();
  const headers = await signedIn(t);
  const waiting = await html(
    await t.app.request("/dashboard/billing?checkout=success", { headers }),
  );
  assert.match(waiting, /data-island="AwaitSubscription"/);
  assert.match(waiting, /Confirming your subscription/);

  await payFounder(t.kv, USER);
  const res = await t.app.request("/dashboard/billing?checkout=success", { headers });
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard");
});

Deno.test("pages render the key prefix and never the full key", async () => {
  await using t = await testApp();
  await payFounder(t.kv, USER);
  const headers = await signedIn(t);
  const before = await html(await t.app.request("/dashboard", { headers }));
  assert.match(before, /data-island="CreatePlatform"/);

  const created = await json(
    await t.app.request("/dashboard/api/platform", {
      method: "POST",
      headers: { ...founderHeaders(await t.signIn(USER)), "content-type": "application/json" },
      body: JSON.stringify({ name: "Acme" }),
    }),
  );
  assert.equal(created.status, 201, created.text);
  const apiKey: string = created.body.apiKey;
  const platformId: string = created.body.platformId;
  const prefix = apiKey.slice(0, apiKey.indexOf("_", 3) + 5);

  for (const path of ["/dashboard", "/dashboard/settings", "/dashboard/tiers"]) {
    const page = await html(await t.app.request(path, { headers }));
    assert.ok(!page.includes(apiKey), `${path} must not contain the key`);
    assert.ok(!page.includes(apiKey.slice(prefix.length, prefix.length + 12)), path);
    if (path !== "/dashboard/tiers") {
      assert.ok(page.includes(`${prefix}…`), `${path} shows the prefix ${prefix}…`);
      assert.ok(page.includes(platformId), `${path} shows the platform id`);
    }
  }
  const settings = await html(await t.app.request("/dashboard/settings", { headers }));
  assert.match(settings, /data-island="KeyReveal"/);
  assert.match(settings, /data-island="StripeConnect"/);
  const tiers = await html(await t.app.request("/dashboard/tiers", { headers }));
  assert.match(tiers, /data-island="TierEditor"/);
  // The editor starts from the stored tiers (the default free tier), serialized beside it.
  assert.match(tiers, /"tiers":\[\{"id":"free","name":"Free","price":0,"limit":100/);
});

Deno.test("dashboard pages are never cached; the marketing page may be", async () => {
  await using t = await testApp();
  const headers = await signedIn(t);
  for (const path of PAGES.slice(0, 2)) {
    const res = await t.app.request(path, { headers });
    await res.body?.cancel();
    assert.equal(res.headers.get("cache-control"), "no-store", path);
  }
  const home = await t.app.request("/");
  await home.body?.cancel();
  assert.match(home.headers.get("cache-control") ?? "", /^public/);
});

Deno.test("the overview lists the end-users counted this period", async () => {
  await using t = await testApp();
  await payFounder(t.kv, USER);
  const created = await json(
    await t.app.request("/dashboard/api/platform", {
      method: "POST",
      headers: founderHeaders(await t.signIn(USER)),
    }),
  );
  assert.equal(created.status, 201, created.text);
  const headers = await signedIn(t);
  const empty = await html(await t.app.request("/dashboard", { headers }));
  assert.match(empty, /data-testid="no-usage"/);

  for (const [user, amount] of [["user_a", 2], ["user_b", 5]] as const) {
    const res = await t.app.request("/api/data", {
      method: "POST",
      headers: { authorization: `Bearer ${created.body.apiKey}`, "x-user-id": user },
      body: JSON.stringify({ amount }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  const page = await html(await t.app.request("/dashboard", { headers }));
  assert.match(page, /data-testid="usage-users-month">2</);
  assert.match(page, /data-testid="usage-units-month">7</);
  // Busiest first.
  assert.ok(page.indexOf("user_b") < page.indexOf("user_a"), "user_b (5) before user_a (2)");
});

Deno.test("unknown pages answer an HTML 404; API paths keep the JSON envelope", async () => {
  await using t = await testApp();
  const page = await html(await t.app.request("/no-such-page"), 404);
  assert.match(page, /Page not found/);
  for (const path of ["/api/nope", "/dashboard/api/nope", "/webhook/nope"]) {
    const res = await json(await t.app.request(path));
    assert.equal(res.status, 404, res.text);
    assert.equal(res.body.error.code, "not_found", res.text);
  }
});

Deno.test("an unexpected error answers an HTML 500 on pages and the envelope on the API", async () => {
  await using t = await testApp({
    deps: {
      verifySession: () => Promise.reject(new Error("verifier exploded: secret detail")),
    },
  });
  const headers = { cookie: "__session=whatever" };
  const page = await html(await t.app.request("/dashboard", { headers }), 500);
  assert.match(page, /Something went wrong/);
  assert.doesNotMatch(page, /secret detail|exploded/);
  const api = await json(await t.app.request("/dashboard/api/me", { headers }));
  assert.equal(api.status, 500, api.text);
  assert.equal(api.body.error.code, "internal", api.text);
  assert.doesNotMatch(api.text, /secret detail/);
});

Deno.test("static files: ETag and 304, immutable when content-hashed, no escaping static/", async () => {
  await using t = await testApp();
  const css = await t.app.request("/static/styles.css");
  const text = await css.text();
  assert.equal(css.status, 200);
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
  assert.match(text, /--brand:/);
  assert.equal(css.headers.get("cache-control"), "public, no-cache");
  const etag = css.headers.get("etag")!;
  assert.match(etag, /^"[0-9a-f]{12}"$/);

  const again = await t.app.request("/static/styles.css", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");

  const hash = etag.slice(1, -1);
  const versioned = await t.app.request(`/static/styles.css?v=${hash}`);
  await versioned.body?.cancel();
  assert.equal(versioned.headers.get("cache-control"), "public, max-age=31536000, immutable");

  const gz = await t.app.request("/static/styles.css", { headers: { "accept-encoding": "gzip" } });
  assert.equal(gz.headers.get("content-encoding"), "gzip");
  const unzipped = await new Response(gz.body!.pipeThrough(new DecompressionStream("gzip")))
    .text();
  assert.equal(unzipped, text);
  assert.notEqual(gz.headers.get("etag"), etag, "each encoding has its own ETag");

  for (const path of ["/static/../deno.json", "/static/%2e%2e/deno.json", "/static/.hidden"]) {
    const res = await t.app.request(path);
    await res.body?.cancel();
    assert.equal(res.status, 404, path);
  }
});

Deno.test("every island a page uses is served as an immutable JavaScript module", async () => {
  await using t = await testApp();
  await payFounder(t.kv, USER);
  const created = await t.app.request("/dashboard/api/platform", {
    method: "POST",
    headers: founderHeaders(await t.signIn(USER)),
  });
  assert.equal(created.status, 201, await created.text());
  const headers = await signedIn(t);
  const page = await html(await t.app.request("/dashboard/settings", { headers }));
  const sources = [...page.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(sources.length >= 3, `KeyReveal, StripeConnect and CopyButton: ${sources}`);
  for (const src of sources) {
    assert.match(src, /^\/static\/islands\/[A-Z][A-Za-z]+\.[0-9a-f]{12}\.js$/);
    const res = await t.app.request(src);
    const body = await res.text();
    assert.equal(res.status, 200, src);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8", src);
    assert.equal(res.headers.get("cache-control"), "public, max-age=31536000, immutable", src);
    assert.match(body, /hydrat|import/, src);
  }
});

Deno.test("island props cannot close their script tag", () => {
  const out = serializeProps({ text: "</script><script>alert(1)</script>", amp: "a&b" });
  assert.ok(!out.includes("<") && !out.includes(">"), out);
  assert.deepEqual(JSON.parse(out), { text: "</script><script>alert(1)</script>", amp: "a&b" });
});
