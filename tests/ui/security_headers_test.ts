/**
 * Security headers on every HTML answer (pages, the 404 and 500 pages, /docs, sign-in), from one
 * builder: a Content-Security-Policy without inline scripts or styles, nosniff, Referrer-Policy,
 * frame-ancestors 'none' and X-Frame-Options, HSTS when PUBLIC_URL is https. And the server's HTML
 * obeys that policy: no inline script, no `on…=` handler, no `javascript:` URL, no `style`.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../fresh.config.ts";
import { htmlSecurityHeaders } from "../../lib/ui/security.ts";
import { founderHeaders, payFounder, type TestApp, testApp } from "../_helpers/app.ts";
import { paidFounderWithPlatform, track } from "../analytics/_world.ts";

const CLERK_KEY = `pk_test_${btoa("clerk.dream.example.com$")}`;
const FAKE_PEM = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";

/** Parses a CSP header into directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
  assert.ok(header, "a Content-Security-Policy header");
  return new Map(
    header.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...sources] = d.split(/\s+/);
      return [name, sources] as const;
    }),
  );
}

/** The HTML answers of the site: every page a founder or visitor can reach, and the errors. */
async function htmlAnswers(t: TestApp): Promise<Array<{ path: string; res: Response }>> {
  const founder = await paidFounderWithPlatform(t);
  // Usage, so the analytics page renders its chart and table (with the limit meters).
  assert.equal(await track(t, founder.apiKey, "user-a", { amount: 95 }), 200);
  assert.equal(await track(t, founder.apiKey, "user-b", { amount: 3 }), 200);
  const cookie = founderHeaders(await t.signIn(founder.userId), { via: "cookie" });
  const unpaid = founderHeaders(await t.signIn("user_unpaid"), { via: "cookie" });
  const answers: Array<{ path: string; res: Response }> = [];
  const visit = async (path: string, headers: Record<string, string> = {}) =>
    answers.push({ path, res: await t.app.request(path, { headers }) });
  await visit("/");
  await visit("/sign-in");
  await visit("/docs");
  await visit("/no-such-page");
  await visit("/static/%ff");
  for (
    const path of [
      "/dashboard",
      "/dashboard/tiers",
      "/dashboard/analytics",
      "/dashboard/analytics?period=2026-11-15",
      "/dashboard/settings",
      "/dashboard/billing",
    ]
  ) await visit(path, cookie);
  await visit("/dashboard", unpaid);
  await visit("/dashboard/billing", unpaid);
  return answers;
}

Deno.test("every HTML answer carries the CSP, nosniff, Referrer-Policy and frame protections", async () => {
  await using t = await testApp();
  for (const { path, res } of await htmlAnswers(t)) {
    const body = await res.text();
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/, `${path}: ${res.status}`);
    const csp = parseCsp(res.headers.get("content-security-policy"));
    assert.deepEqual(csp.get("default-src"), ["'none'"], path);
    assert.deepEqual(csp.get("script-src"), ["'self'"], path);
    assert.deepEqual(csp.get("style-src"), ["'self'"], path);
    assert.deepEqual(csp.get("frame-ancestors"), ["'none'"], path);
    assert.deepEqual(csp.get("base-uri"), ["'none'"], path);
    assert.deepEqual(csp.get("object-src"), ["'none'"], path);
    assert.deepEqual(csp.get("form-action"), ["'self'"], path);
    assert.deepEqual(csp.get("connect-src"), ["'self'"], path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("referrer-policy"), "same-origin", path);
    assert.equal(res.headers.get("x-frame-options"), "DENY", path);
    assert.equal(res.headers.get("strict-transport-security"), null, `${path}: http, no HSTS`);
    assert.ok(body.length > 0, path);
  }
});

Deno.test("the 500 page carries the same headers", async () => {
  await using t = await testApp({
    deps: { verifySession: () => Promise.reject(new Error("verifier exploded")) },
  });
  const res = await t.app.request("/dashboard", { headers: { cookie: "__session=x" } });
  await res.body?.cancel();
  assert.equal(res.status, 500);
  const expected = htmlSecurityHeaders(t.deps.config);
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(res.headers.get(name), value, name);
  }
});

Deno.test("Strict-Transport-Security is sent when PUBLIC_URL is https", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: "https://dream.example.com" } });
  for (const path of ["/", "/sign-in", "/docs", "/no-such-page"]) {
    const res = await t.app.request(path);
    await res.body?.cancel();
    assert.equal(
      res.headers.get("strict-transport-security"),
      "max-age=31536000; includeSubDomains",
      path,
    );
  }
});

Deno.test("with Clerk configured, scripts may come from exactly its Frontend API origin", async () => {
  const config = parseConfig({
    APP_ENV: "test",
    CLERK_JWT_KEY: FAKE_PEM,
    CLERK_PUBLISHABLE_KEY: CLERK_KEY,
  });
  const csp = parseCsp(htmlSecurityHeaders(config)["content-security-policy"]);
  assert.deepEqual(csp.get("script-src"), ["'self'", "https://clerk.dream.example.com"]);
  assert.deepEqual(csp.get("connect-src"), ["'self'", "https://clerk.dream.example.com"]);
  assert.deepEqual(csp.get("img-src"), ["'self'", "https://img.clerk.com"]);
  assert.deepEqual(csp.get("worker-src"), ["'self'", "blob:"]);
  // Clerk's components inject their styles at run time (its documented requirement).
  assert.deepEqual(csp.get("style-src"), ["'self'", "'unsafe-inline'"]);

  await using t = await testApp({
    env: { CLERK_JWT_KEY: FAKE_PEM, CLERK_PUBLISHABLE_KEY: CLERK_KEY },
  });
  const res = await t.app.request("/sign-in");
  assert.match(await res.text(), /data-island="ClerkAuth"/);
  assert.equal(
    res.headers.get("content-security-policy"),
    htmlSecurityHeaders(config)["content-security-policy"],
  );
});

Deno.test("a publishable key that names no usable host adds no script source", () => {
  for (const key of ["pk_test_", "pk_test_!!!", `pk_test_${btoa("evil.example/x$")}`]) {
    const config = parseConfig({
      APP_ENV: "test",
      CLERK_JWT_KEY: FAKE_PEM,
      CLERK_PUBLISHABLE_KEY: key,
    });
    const csp = parseCsp(htmlSecurityHeaders(config)["content-security-policy"]);
    assert.deepEqual(csp.get("script-src"), ["'self'"], key);
  }
});

Deno.test("no policy allows inline scripts or eval, whatever the configuration", () => {
  for (
    const env of [
      { APP_ENV: "test" },
      { APP_ENV: "development" },
      { APP_ENV: "test", PUBLIC_URL: "https://dream.example.com" },
      { APP_ENV: "test", CLERK_JWT_KEY: FAKE_PEM, CLERK_PUBLISHABLE_KEY: CLERK_KEY },
    ]
  ) {
    const csp = parseCsp(htmlSecurityHeaders(parseConfig(env))["content-security-policy"]);
    const scripts = csp.get("script-src")!;
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "*", "data:", "blob:", "https:"]) {
      assert.ok(!scripts.includes(bad), `${JSON.stringify(env)}: script-src has ${bad}`);
    }
  }
});

Deno.test("the server's HTML follows the policy: no inline script, handler, javascript: URL or style", async () => {
  await using t = await testApp();
  await payFounder(t.kv, "user_other");
  for (const { path, res } of await htmlAnswers(t)) {
    const html = await res.text();
    for (const tag of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      const [, attrs, content] = tag;
      if (/\bsrc="\/static\//.test(attrs)) {
        assert.equal(content, "", `${path}: a script with src has no body`);
      } else {
        assert.match(attrs, /\btype="application\/json"/, `${path}: inline script ${tag[0]}`);
      }
    }
    assert.doesNotMatch(html, /<[^>]+\son[a-z]+\s*=/i, `${path}: an on…= handler attribute`);
    assert.doesNotMatch(html, /javascript:/i, `${path}: a javascript: URL`);
    assert.doesNotMatch(html, /<[^>]+\sstyle\s*=/i, `${path}: a style attribute`);
    assert.doesNotMatch(html, /<style\b/i, `${path}: a <style> element`);
    if (path === "/dashboard/analytics") {
      assert.match(html, /<svg class="meter"/, "the usage table's limit meters were rendered");
    }
  }
});

Deno.test("static scripts and styles are nosniff", async () => {
  await using t = await testApp();
  const headers = founderHeaders(await t.signIn("user_assets"), { via: "cookie" });
  const page = await (await t.app.request("/dashboard", { headers })).text();
  const assets = [
    ...page.matchAll(/(?:src|href)="(\/static\/[^"]+\.(?:js|css)[^"]*)"/g),
  ].map((m) => m[1]);
  assert.ok(assets.some((a) => a.includes(".css")) && assets.some((a) => a.includes(".js")));
  for (const asset of assets) {
    const res = await t.app.request(asset);
    await res.body?.cancel();
    assert.equal(res.status, 200, asset);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", asset);
  }
});
