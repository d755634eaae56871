import assert from "node:assert/strict";
import { BodyBudget } from "../../lib/http/body_budget.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

/** The app on a real `Deno.serve` (port 0), its body deadline `timeoutMs`. */
async function served(timeoutMs: number) {
  const budget = new BodyBudget({ capacity: 64 * 1024 * 1024, timeoutMs });
  const t = await testApp({ deps: { bodyBudget: budget } });
  const server = Deno.serve({ port: 0, onListen() {} }, t.app.fetch);
  return {
    t,
    budget,
    port: server.addr.port,
    url: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Opens a connection and sends `text` (a request cut short), leaving it open. */
async function trickle(port: number, text: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encode(text));
  return conn;
}

/**
 * The server's answer, read until its body is complete (Content-Length). The connection itself
 * is not waited on: `Deno.serve` 2.9 keeps it until the client sends or hangs up (see
 * lib/http/body_budget.ts), so the test hangs up.
 */
async function readAnswer(conn: Deno.TcpConn): Promise<string> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n));
    const [head, body] = text.split("\r\n\r\n");
    const length = /content-length: (\d+)/i.exec(head)?.[1];
    if (body !== undefined && length && new TextEncoder().encode(body).length >= Number(length)) {
      break;
    }
  }
  conn.close();
  return text;
}

const head = (path: string, apiKey: string, extra: string) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nX-User-Id: slow\r\n` +
  `Content-Type: application/json\r\n${extra}\r\n`;

Deno.test("a body that does not arrive in time is answered 408 with Connection: close, its budget given back, nothing counted", async () => {
  await using s = await served(200);
  const { apiKey } = await seedPlatform(s.t.kv);
  const cases = [
    // The hot route, a declared length never reached.
    head("/api/data", apiKey, "Content-Length: 100\r\n") + '{"amount":',
    // The hot route, chunked: one chunk, then nothing.
    head("/api/data", apiKey, "Transfer-Encoding: chunked\r\n") + '5\r\n{"amo\r\n',
    // A Hono route (limitBody) with a large limit.
    head("/webhook/stripe", apiKey, "Stripe-Signature: t=1,v1=00\r\nContent-Length: 5000\r\n") +
    "{",
  ];
  for (const request of cases) {
    const answer = await readAnswer(await trickle(s.port, request));
    const where = request.split("\r\n")[0];
    assert.match(answer, /^HTTP\/1\.1 408 /, `${where}: ${answer}`);
    assert.match(answer, /\r\nconnection: close\r\n/i, `${where}: ${answer}`);
    assert.match(answer, /"code":"request_timeout"/, `${where}: ${answer}`);
    assert.match(answer, /x-request-id: /i, `${where}: ${answer}`);
  }
  assert.equal(s.budget.used, 0, "the timed-out bodies gave their budget back");
  assert.equal(s.budget.reading, 0);
  const usage = await json(
    await fetch(`${s.url}/api/usage`, { headers: tenantHeaders(apiKey, "slow") }),
  );
  assert.equal(usage.body.usage.count, 0, usage.text);
});

Deno.test("with 200 trickling connections open, normal requests still succeed", async () => {
  // A deadline longer than the test: the trickling connections stay open throughout.
  await using s = await served(10 * 60_000);
  const { apiKey } = await seedPlatform(s.t.kv);
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < 100; i++) {
    // Half a request head (Deno.serve offers no header timeout: these wait for their client).
    conns.push(await trickle(s.port, `POST /api/data HTTP/1.1\r\nHost: x\r\nX-User-Id: h${i}\r\n`));
    // A whole head and part of a body.
    conns.push(
      await trickle(
        s.port,
        head(i % 2 ? "/api/data" : "/webhook/stripe", apiKey, "Content-Length: 1000\r\n") + "{",
      ),
    );
  }
  const calls = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    fetch(`${s.url}/api/data`, {
      method: "POST",
      headers: tenantHeaders(apiKey, `normal-${i % 5}`),
      body: '{"amount":2}',
    }).then(json)));
  for (const call of calls) assert.equal(call.status, 200, call.text);
  const usage = await json(
    await fetch(`${s.url}/api/usage`, { headers: tenantHeaders(apiKey, "normal-0") }),
  );
  assert.equal(usage.body.usage.count, 20, usage.text);
  assert.equal(s.budget.reading, 100, "the 100 partial bodies are still being waited for");
  for (const conn of conns) conn.close();
});
