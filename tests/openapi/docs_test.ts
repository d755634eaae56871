/**
 * `/docs`: the API reference rendered from the OpenAPI document, self-contained (no third-party
 * script or stylesheet), linked from the marketing page and the dashboard, and its examples work.
 */
import assert from "node:assert/strict";
import { ERROR_STATUS } from "../../lib/errors.ts";
import { openApiDocument } from "../../lib/openapi/document.ts";
import { parametersOf } from "../../lib/openapi/describe.ts";
import {
  founderHeaders,
  json,
  payFounder,
  seedPlatform,
  tenantHeaders,
  testApp,
} from "../_helpers/app.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function html(res: Response): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 500));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/, text.slice(0, 500));
  assert.ok(text.startsWith("<!doctype html>"), text.slice(0, 200));
  return text;
}

const unescape = (s: string) =>
  s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&")
    .replaceAll("&lt;", "<").replaceAll("&gt;", ">");

Deno.test("GET /docs renders every operation of the document: anchor, method, path and summary", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: "https://api.example.com" } });
  const page = unescape(await html(await t.app.request("/docs")));
  const doc = openApiDocument("https://api.example.com");
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths) as [string, Json][]) {
    for (const [method, op] of Object.entries(item) as [string, Json][]) {
      operations++;
      const at = page.indexOf(`id="${op.operationId}"`);
      assert.ok(at > 0, `no section for ${op.operationId}`);
      const section = page.slice(at, page.indexOf("</article>", at));
      assert.ok(section.includes(`>${method.toUpperCase()}<`), `${op.operationId}: method`);
      assert.ok(section.includes(`>${path}<`), `${op.operationId}: path`);
      assert.ok(section.includes(op.summary), `${op.operationId}: summary`);
      for (const status of Object.keys(op.responses)) {
        assert.ok(section.includes(`data-status="${status}"`), `${op.operationId}: ${status}`);
      }
      assert.ok(page.includes(`href="#${op.operationId}"`), `${op.operationId}: in the contents`);
    }
  }
  assert.ok(operations >= 11, `only ${operations} operations`);
  assert.match(page, /<title>API reference · dream-api<\/title>/);
  assert.ok(page.includes('href="/openapi.json"'));
  assert.ok(page.includes('href="/client/dream_api.ts"'));
  assert.ok(page.includes("curl -X POST https://api.example.com/api/data"), "base URL in examples");
});

Deno.test("GET /docs lists every error code with its status, and every header", async () => {
  await using t = await testApp();
  const page = unescape(await html(await t.app.request("/docs")));
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    const at = page.indexOf(`id="error-${code}"`);
    assert.ok(at > 0, `no row for ${code}`);
    const row = page.slice(at, page.indexOf("</tr>", at));
    assert.ok(row.includes(`>${status}<`), `${code}: ${status} in ${row}`);
  }
  for (
    const header of [
      "X-User-Id",
      "X-User-Plan",
      "Idempotency-Key",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
      "Retry-After",
    ]
  ) assert.ok(page.includes(`id="header-${header}"`), header);
});

Deno.test("GET /docs loads nothing from another origin: scripts and styles are ours", async () => {
  await using t = await testApp();
  const page = await html(await t.app.request("/docs"));
  const sources = [...page.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1]);
  assert.ok(sources.length > 0);
  for (const src of sources) assert.match(src, /^\/(?!\/)/, `not same-origin: ${src}`);
  const css = sources.find((s) => s.startsWith("/static/docs.css"));
  assert.ok(css, "the reference's stylesheet is linked");
  const res = await t.app.request(css);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/css/);
  await res.body?.cancel();
});

Deno.test("the marketing page and the dashboard link to /docs", async () => {
  await using t = await testApp();
  assert.match(await html(await t.app.request("/")), /href="\/docs"/);
  await payFounder(t.kv, "user_docs");
  const headers = founderHeaders(await t.signIn("user_docs"), { via: "cookie" });
  assert.match(await html(await t.app.request("/dashboard", { headers })), /href="\/docs"/);
});

Deno.test("the reference's example requests for the tenant API succeed against the real server", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const doc = openApiDocument("http://localhost:8000");
  for (
    const [path, method] of [["/api/data", "post"], ["/api/usage", "get"], ["/api/check", "get"]]
  ) {
    const op = doc.paths[path][method];
    const headers: Record<string, string> = tenantHeaders(apiKey, "");
    for (const p of parametersOf(doc, op)) {
      if (p.in === "header" && p.required) headers[p.name.toLowerCase()] = String(p.example);
    }
    const media = op.requestBody?.content["application/json"];
    if (media) headers["content-type"] = "application/json";
    const res = await t.app.request(path, {
      method: method.toUpperCase(),
      headers,
      body: media ? JSON.stringify(media.example) : undefined,
    });
    const { status, text } = await json(res);
    assert.equal(status, 200, `${method} ${path}: ${text}`);
  }
});
