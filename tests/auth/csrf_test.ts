/**
 * CSRF: "our origin" comes from configuration (PUBLIC_URL, plus localhost and 127.0.0.1 on PORT in
 * development), never from the request. A forged `Host` that matches a forged `Origin` is refused.
 */
import assert from "node:assert/strict";
import { allowedOrigins } from "../../lib/middleware/founder.ts";
import { parseConfig } from "../../fresh.config.ts";
import { json, payFounder, type TestApp, testApp } from "../_helpers/app.ts";

const PUBLIC = "https://dream.example.com";

/** The cookie-authenticated mutations and what each answers when the origin is accepted. */
async function mutations(t: TestApp, base: string, headers: Record<string, string>) {
  await payFounder(t.kv, "user_csrf");
  const cookie = `__session=${await t.signIn("user_csrf")}`;
  const send = (path: string, init: RequestInit) =>
    t.app.request(`${base}${path}`, { method: "POST", ...init });
  return [
    {
      name: "POST /dashboard/api/platform",
      res: await send("/dashboard/api/platform", {
        headers: { ...headers, cookie, "content-type": "application/json" },
        body: "{}",
      }),
      ok: 201,
    },
    {
      name: "POST /sign-in/dev",
      res: await send("/sign-in/dev", {
        headers,
        body: new URLSearchParams({ email: "attacker@example.com" }),
      }),
      ok: 303,
    },
    {
      name: "POST /sign-out",
      res: await send("/sign-out", { headers: { ...headers, cookie } }),
      ok: 303,
    },
  ];
}

async function expectRefused(t: TestApp, base: string, headers: Record<string, string>) {
  for (const { name, res } of await mutations(t, base, headers)) {
    const { status, body, text } = await json(res);
    assert.equal(status, 403, `${name} from ${JSON.stringify(headers)} at ${base}: ${text}`);
    assert.equal(body.error.code, "forbidden", text);
    assert.match(body.error.message, /CSRF/, text);
    assert.equal(res.headers.get("set-cookie"), null, `${name} set no cookie`);
  }
}

async function expectAccepted(t: TestApp, base: string, headers: Record<string, string>) {
  for (const { name, res, ok } of await mutations(t, base, headers)) {
    const text = await res.text();
    assert.equal(res.status, ok, `${name} from ${JSON.stringify(headers)} at ${base}: ${text}`);
  }
}

Deno.test("CSRF: a forged Host matching a forged Origin is refused", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: PUBLIC } });
  // The request is addressed to evil.example (its Host), and says it comes from there.
  for (const origin of ["https://evil.example", "http://evil.example"]) {
    await expectRefused(t, origin, { origin });
  }
  // Nor does our own Host make another origin ours.
  await expectRefused(t, PUBLIC, { origin: "http://dream.example.com" });
  await expectRefused(t, PUBLIC, { origin: "https://dream.example.com:8443" });
});

Deno.test("CSRF: outside development, localhost is not our origin", async () => {
  for (const APP_ENV of ["test", "production"]) {
    const env: Record<string, string> = { APP_ENV, PUBLIC_URL: PUBLIC, PORT: "8000" };
    if (APP_ENV === "production") {
      Object.assign(env, {
        ENCRYPTION_KEY: "x",
        STRIPE_SECRET_KEY: "sk_test_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_PRICE_ID: "price_x",
        CLERK_JWT_KEY: "k",
      });
      // Production has no development sign-in to test through: the rule itself, then.
      assert.deepEqual([...allowedOrigins(parseConfig(env))], [PUBLIC]);
      continue;
    }
    await using t = await testApp({ env });
    for (const origin of ["http://localhost:8000", "http://127.0.0.1:8000"]) {
      await expectRefused(t, origin, { origin });
    }
  }
});

Deno.test("CSRF: PUBLIC_URL's origin is accepted, and Sec-Fetch-Site same-origin without Origin", async () => {
  {
    await using t = await testApp({ env: { PUBLIC_URL: PUBLIC } });
    await expectAccepted(t, PUBLIC, { origin: PUBLIC });
  }
  {
    // Behind a proxy the request may be addressed to an internal host: the Origin still decides.
    await using t = await testApp({ env: { PUBLIC_URL: `${PUBLIC}/` } });
    await expectAccepted(t, "http://10.0.0.7:8000", { origin: PUBLIC });
  }
  {
    await using t = await testApp({ env: { PUBLIC_URL: PUBLIC } });
    await expectAccepted(t, PUBLIC, { "sec-fetch-site": "same-origin" });
  }
});

Deno.test("CSRF: in development, localhost and 127.0.0.1 on PORT are ours too, other ports are not", async () => {
  const env = { APP_ENV: "development", PUBLIC_URL: PUBLIC, PORT: "8123" };
  assert.deepEqual(
    [...allowedOrigins(parseConfig(env))].sort(),
    ["http://127.0.0.1:8123", "http://localhost:8123", PUBLIC].sort(),
  );
  for (const origin of ["http://localhost:8123", "http://127.0.0.1:8123", PUBLIC]) {
    await using t = await testApp({ env });
    await expectAccepted(t, origin, { origin });
  }
  for (const origin of ["http://localhost:9999", "https://localhost:8123", "http://[::1]:9999"]) {
    await using t = await testApp({ env });
    await expectRefused(t, origin, { origin });
  }
});

Deno.test("CSRF over a real socket: Host and Origin both forged to evil.example are refused", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: PUBLIC } });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, t.app.fetch);
  try {
    const body = "email=attacker%40example.com";
    const request = [
      "POST /sign-in/dev HTTP/1.1",
      "Host: evil.example",
      "Origin: http://evil.example",
      "Content-Type: application/x-www-form-urlencoded",
      `Content-Length: ${body.length}`,
      "Connection: close",
      "",
      body,
    ].join("\r\n");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(new TextEncoder().encode(request));
    const answer = await new Response(conn.readable).text();
    assert.match(answer, /^HTTP\/1\.1 403 /, answer);
    assert.doesNotMatch(answer, /set-cookie/i, answer);
  } finally {
    await server.shutdown();
  }
});
