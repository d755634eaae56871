/**
 * Odd path encodings (invalid percent-escapes, overlong UTF-8, encoded slashes and dots, very long
 * names) never reach a 500: browsers get the HTML 404 page, API clients the JSON envelope, and
 * nothing outside `static/` is ever served. Checked through `app.request` and over a real socket,
 * where the request line reaches the server byte for byte.
 */
import assert from "node:assert/strict";
import { testApp } from "../_helpers/app.ts";

const ODD_PATHS = [
  "/static/%ff",
  "/static/%",
  "/static/%zz",
  "/static/%c0%af",
  "/static/%c0%ae%c0%ae/deno.json",
  "/static/%e0%80%af",
  "/static/%ed%a0%80",
  "/static/styles.css%00",
  "/static/styles.css%ff",
  "/static/a%2fb",
  "/static/..%2f..%2fdeno.json",
  "/static/%2e%2e/deno.json",
  "/static/%2e%2e%2fdeno.json",
  "/static/..%5cdeno.json",
  "/static/styles.css/x",
  "/static/islands/%ff.js",
  "/static/%25ff",
  "/static/%252e%252e/deno.json",
  `/static/${"a".repeat(300)}.css`,
  `/static/${"a/".repeat(2000)}x.css`,
  `/static/${"%ff".repeat(3000)}`,
  "//",
  "///static/styles.css%ff",
  "/%ff",
  "/%",
  "/%zz",
  "/docs/%ff",
  "/docs%",
  "/docs%ff",
  "/sign-in%ff",
  "/sign-in/%c0%af",
  "/dashboard/%ff",
  "/dashboard%2fbilling",
  "/dashboard/tiers%",
  `/${"a".repeat(20_000)}`,
];

const API_PATHS = [
  "/api/%ff",
  "/api/data%ff",
  "/api/%",
  "/dashboard/api/%ff",
  "/dashboard/api/usage%zz",
  "/dashboard/api/%c0%af",
  "/webhook/%ff",
  "/webhook/stripe%",
];

async function expectBrowser404(res: Response, path: string) {
  const text = await res.text();
  const shown = path.slice(0, 80);
  assert.equal(res.status, 404, `${shown}: ${res.status} ${text.slice(0, 200)}`);
  assert.equal(res.headers.get("content-type"), "text/html; charset=UTF-8", shown);
  assert.match(text, /Page not found/, shown);
}

async function expectEnvelope(res: Response, path: string, statuses: number[]) {
  const text = await res.text();
  const shown = path.slice(0, 80);
  assert.ok(statuses.includes(res.status), `${shown}: ${res.status} ${text.slice(0, 200)}`);
  assert.equal(res.headers.get("content-type"), "application/json", `${shown}: ${text}`);
  const body = JSON.parse(text);
  assert.equal(body.success, false, text);
  assert.match(body.error.code, /^(not_found|invalid_request|method_not_allowed)$/, text);
}

Deno.test("odd path encodings answer the 404 page to browsers, never a 500", async () => {
  await using t = await testApp();
  for (const path of ODD_PATHS) {
    for (const method of ["GET", "HEAD"]) {
      const res = await t.app.request(`http://localhost${path}`, {
        method,
        headers: { accept: "text/html" },
      });
      if (method === "HEAD") {
        await res.body?.cancel();
        assert.equal(res.status, 404, `HEAD ${path.slice(0, 80)}`);
      } else await expectBrowser404(res, path);
    }
  }
  assert.deepEqual(t.logs.filter((l) => l.includes('"error"')), [], "nothing logged as an error");
});

Deno.test("odd path encodings answer the JSON envelope to API clients, never a 500", async () => {
  await using t = await testApp();
  for (const path of API_PATHS) {
    const res = await t.app.request(`http://localhost${path}`);
    await expectEnvelope(res, path, [404]);
  }
  // A client that asks for JSON gets the envelope wherever it asks.
  for (const path of ODD_PATHS) {
    const res = await t.app.request(`http://localhost${path}`, {
      headers: { accept: "application/json" },
    });
    await expectEnvelope(res, path, [404]);
  }
});

Deno.test("over a real socket, raw odd request targets answer 4xx and never escape static/", async () => {
  await using t = await testApp();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    t.app.fetch,
  );
  try {
    const targets = [
      ...ODD_PATHS.filter((p) => p.length < 4000),
      ...API_PATHS,
      "/static/../deno.json",
      "/static/./../deno.json",
      "/static/..%2fdeno.json",
      "/static/../../../../etc/passwd",
      "/static/%2e%2e/%2e%2e/etc/passwd",
    ];
    for (const target of targets) {
      const { status, head, body } = await rawGet(server.addr.port, target);
      assert.ok(status >= 400 && status < 500, `${target.slice(0, 80)}: ${status}\n${head}`);
      assert.doesNotMatch(body, /"tasks"|root:/, `${target.slice(0, 80)} leaked a file`);
    }
  } finally {
    await server.shutdown();
  }
});

/** Sends `GET target` exactly as written (no client-side normalisation) and reads the answer. */
async function rawGet(
  port: number,
  target: string,
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    const [head, body = ""] = text.split("\r\n\r\n");
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body };
  } catch (error) {
    conn.close();
    throw error;
  }
}
