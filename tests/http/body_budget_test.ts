import assert from "node:assert/strict";
import { BodyBudget, bodyBudgetFromHeap } from "../../lib/http/body_budget.ts";
import { json, seedPlatform, tenantHeaders, testApp } from "../_helpers/app.ts";

const KiB = 1024;

/** The app on a real `Deno.serve` (port 0), with `budget` as its process's body budget. */
async function served(budget: BodyBudget) {
  const t = await testApp({ deps: { bodyBudget: budget } });
  const server = Deno.serve({ port: 0, onListen() {} }, t.app.fetch);
  return {
    t,
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** A raw connection that sends a request's head and the first bytes of its body, then waits. */
async function startBody(port: number, path: string, length: number, sent = 100) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\n\r\n`;
  await conn.write(new TextEncoder().encode(head + "x".repeat(sent)));
  return {
    conn,
    /** Sends the rest of the body and reads the status line of the answer. */
    async finish(): Promise<string> {
      await conn.write(new TextEncoder().encode("x".repeat(length - sent)));
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      conn.close();
      return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
    },
  };
}

/** Waits (without a time limit of its own: the test runner's is enough) until `done()` holds. */
async function until(done: () => boolean, what: string) {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(done(), what);
}

async function track(url: string, apiKey: string, user: string) {
  return await json(
    await fetch(`${url}/api/data`, {
      method: "POST",
      headers: tenantHeaders(apiKey, user),
      body: JSON.stringify({ amount: 1, pad: "p".repeat(8 * KiB) }),
    }),
  );
}

Deno.test("past the body budget a new body is refused at once with 503 and Retry-After; tenant calls still succeed; the budget returns to 0", async () => {
  // 1 MiB, a quarter reserved for small bodies: three 256 KiB webhook bodies fill the rest.
  const budget = new BodyBudget({ capacity: 1024 * KiB });
  await using s = await served(budget);
  const { apiKey } = await seedPlatform(s.t.kv);
  const flood = [];
  for (let i = 0; i < 3; i++) flood.push(await startBody(s.port, "/webhook/platform", 256 * KiB));
  await until(() => budget.used === 768 * KiB, `3 bodies taken, used ${budget.used}`);

  // A fourth large body does not fit: 503 unavailable with Retry-After, before its body is read.
  const refused = await fetch(`${s.url}/webhook/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=00" },
    body: "x".repeat(200 * KiB),
  });
  const { body, text } = await json(refused);
  assert.equal(refused.status, 503, text);
  assert.equal(body.error.code, "unavailable", text);
  assert.match(body.error.message, /too many request bodies/, text);
  assert.match(refused.headers.get("retry-after") ?? "", /^\d+$/);
  assert.equal(body.error.requestId, refused.headers.get("x-request-id"), text);

  // Chunked (no declared length) is counted as it arrives, and refused the same way.
  const chunked = await fetch(`${s.url}/webhook/stripe`, {
    method: "POST",
    headers: { "stripe-signature": "t=1,v1=00" },
    body: new Blob(["y".repeat(300 * KiB)]).stream(),
  });
  const chunkedText = await chunked.text();
  assert.equal(chunked.status, 503, chunkedText);
  assert.match(chunkedText, /too many request bodies/);

  // The tenant API draws on the reserve: its calls go on, concurrently, during the flood.
  const calls = await Promise.all(
    Array.from({ length: 20 }, (_, i) => track(s.url, apiKey, `u${i % 4}`)),
  );
  for (const call of calls) assert.equal(call.status, 200, call.text);
  assert.equal(budget.used, 768 * KiB, "tenant bodies were given back");

  // One flooder vanishes mid-body, the others finish: everything is given back.
  flood[0].conn.close();
  for (const f of flood.slice(1)) assert.match(await f.finish(), /^HTTP\/1\.1 [45]\d\d/);
  await until(() => budget.used === 0, `the budget returns to 0 (used ${budget.used})`);
  const after = await track(s.url, apiKey, "u9");
  assert.equal(after.status, 200, after.text);
  const large = await fetch(`${s.url}/webhook/stripe`, {
    method: "POST",
    headers: { "stripe-signature": "t=1,v1=00" },
    body: "x".repeat(200 * KiB),
  });
  const largeText = await large.text();
  assert.doesNotMatch(largeText, /too many request bodies/, "large bodies fit again");
  assert.equal(budget.used, 0);
});

Deno.test("small bodies may use the reserve, large ones may not", () => {
  const budget = new BodyBudget({ capacity: 100, reserved: 40 });
  assert.equal(budget.take(60, false), true);
  assert.equal(budget.take(1, false), false, "the reserve is not for large bodies");
  assert.equal(budget.take(40, true), true, "small bodies fill the reserve");
  assert.equal(budget.take(1, true), false, "nothing past the cap");
  budget.release(100);
  assert.equal(budget.used, 0);
});

Deno.test("the budget is an eighth of the V8 heap limit, a quarter of it reserved", () => {
  const budget = bodyBudgetFromHeap(108 * 1024 * KiB);
  assert.equal(budget.capacity, 13.5 * 1024 * KiB);
  assert.equal(budget.reserved, Math.floor(13.5 * 1024 * KiB / 4));
});
