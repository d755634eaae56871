import assert from "node:assert/strict";
import { isRequestId } from "../../lib/http/request_id.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

/** Every kind of answer the app gives: hot routes, Hono routes, pages, static files, 404s, errors. */
function requests(apiKey: string): [string, RequestInit][] {
  return [
    ["/api/data", { method: "POST", headers: tenantHeaders(apiKey, "u") }],
    ["/api/usage", { headers: tenantHeaders(apiKey, "u") }],
    ["/api/usage", {}],
    ["/api/data", { method: "POST", headers: tenantHeaders(apiKey, "u"), body: "{" }],
    ["/api/create-checkout", { method: "POST", headers: tenantHeaders(apiKey, "u") }],
    ["/health", {}],
    ["/openapi.json", {}],
    ["/", { headers: { accept: "text/html" } }],
    ["/static/styles.css", {}],
    ["/static/nothing.css", {}],
    ["/nothing", { headers: { accept: "text/html" } }],
    ["/api/nothing", {}],
    ["/api/data", { method: "GET" }],
    ["/dashboard/api/me", {}],
    ["/webhook/platform", { method: "POST", body: "{}" }],
  ];
}

Deno.test("every answer carries a well-formed X-Request-Id, and every error envelope the same id", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const seen = new Set<string>();
  for (const [path, init] of requests(apiKey)) {
    const res = await t.app.request(path, init);
    const id = res.headers.get("x-request-id");
    const where = `${init.method ?? "GET"} ${path} → ${res.status}`;
    assert.ok(id !== null && isRequestId(id), `${where}: X-Request-Id ${id}`);
    assert.ok(!seen.has(id), `${where}: a new id for every request (${id})`);
    seen.add(id);
    if (res.status >= 400 && res.headers.get("content-type")?.startsWith("application/json")) {
      const { body, text } = await json(res);
      assert.equal(body.error.requestId, id, `${where}: ${text}`);
    } else {
      await res.body?.cancel();
    }
  }
});

Deno.test("a well-formed incoming X-Request-Id is kept; anything else is replaced", async () => {
  await using t = await testApp();
  const { apiKey } = await seedPlatform(t.kv);
  const kept = ["a", "trace-1.2:3_4", "A".repeat(128)];
  const replaced = ["", "two words", "x".repeat(129), "é", "a/b", "a,b", "<script>"];
  for (const [path, init] of requests(apiKey)) {
    for (const incoming of [...kept, ...replaced]) {
      const headers = new Headers(init.headers);
      headers.set("x-request-id", incoming);
      const res = await t.app.request(path, { ...init, headers });
      const id = res.headers.get("x-request-id");
      const where = `${init.method ?? "GET"} ${path} with ${JSON.stringify(incoming)}`;
      await res.body?.cancel();
      if (kept.includes(incoming)) assert.equal(id, incoming, where);
      else assert.ok(id !== null && id !== incoming && isRequestId(id), `${where}: got ${id}`);
    }
  }
});

Deno.test("the log line of a 500 carries the answer's request id, on the Hono path too", async () => {
  await using t = await testApp({ hotRoutes: false });
  const { apiKey } = await seedPlatform(t.kv);
  t.deps.meter.read = () => Promise.reject(new Error("KV is on fire"));
  const res = await t.app.request("/api/usage", {
    headers: tenantHeaders(apiKey, "u", { "x-request-id": "support-case-42" }),
  });
  const { body, text } = await json(res);
  assert.equal(res.status, 500, text);
  assert.equal(res.headers.get("x-request-id"), "support-case-42");
  assert.equal(body.error.requestId, "support-case-42", text);
  const logged = t.logs.map((l) => JSON.parse(l)).find((e) => e.message === "unhandled error");
  assert.equal(logged?.requestId, "support-case-42", t.logs.join("\n"));
});
