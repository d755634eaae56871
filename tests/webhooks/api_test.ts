/**
 * `/dashboard/api/webhooks*` and `/dashboard/webhooks` through the real app: the secret shown
 * once and sealed at rest, rotation, the test event through the outbox to a real receiver,
 * DELETE, the URL rules in production, the paid gate, and the page.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { parseConfig } from "../../fresh.config.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  founderHeaders,
  json,
  payFounder,
  seedPaidFounder,
  type TestApp,
  testApp,
} from "../_helpers/app.ts";
import { deliveryLoop } from "./_delivery.ts";
import { startReceiver } from "./_receiver.ts";

const USER = "user_hooks";

async function call(t: TestApp, method: string, path: string, body?: unknown) {
  const token = await t.signIn(USER);
  const headers = founderHeaders(token);
  return await t.app.request(path, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function verify(
  secret: string,
  got: { id: string | null; timestamp: string | null; signature: string | null; body: string },
) {
  return new Webhook(secret).verify(got.body, {
    "webhook-id": got.id!,
    "webhook-timestamp": got.timestamp!,
    "webhook-signature": got.signature!,
  });
}

Deno.test("PUT creates the endpoint and shows its secret once; GET and later PUTs never show it; it is sealed in KV", async () => {
  await using t = await testApp();
  const { platformId } = await seedPaidFounder(t.kv, USER);

  let res = await call(t, "GET", "/dashboard/api/webhooks");
  let { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.deepEqual(body, {
    endpoint: null,
    health: { lastDeliveredAt: null, consecutiveFailures: 0, failing: false },
    deliveries: [],
  });

  res = await call(t, "PUT", "/dashboard/api/webhooks", { url: "http://127.0.0.1:9/hook" });
  ({ body, text } = await json(res));
  assert.equal(res.status, 201, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match(body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, text);
  assert.deepEqual(body.endpoint.events, [
    "usage.near_limit",
    "usage.limit_reached",
    "subscription.updated",
  ]);
  const secret: string = body.secret;

  res = await call(t, "PUT", "/dashboard/api/webhooks", {
    url: "http://127.0.0.1:9/other",
    events: ["usage.limit_reached"],
  });
  ({ body, text } = await json(res));
  assert.equal(res.status, 200, text);
  assert.equal(body.secret, undefined, text);
  assert.deepEqual(body.endpoint.events, ["usage.limit_reached"]);
  assert.equal(body.endpoint.url, "http://127.0.0.1:9/other");

  res = await call(t, "GET", "/dashboard/api/webhooks");
  ({ body, text } = await json(res));
  assert.equal(body.endpoint.url, "http://127.0.0.1:9/other", text);
  assert.ok(!text.includes(secret.slice(6)), "GET shows the secret");
  assert.ok(!text.includes("whsec_"), text);

  const stored = await t.kv.get(keys.webhookEndpoint(platformId));
  assert.ok(
    !JSON.stringify(stored.value).includes(secret.slice(6)),
    "the secret is plaintext in KV",
  );
});

Deno.test("rotate shows a new secret once and the test event, queued through the outbox, is signed with it", async () => {
  await using receiver = startReceiver();
  await using t = await testApp();
  t.setNow(new Date()); // receivers check webhook-timestamp against the real clock
  await seedPaidFounder(t.kv, USER);
  let res = await call(t, "POST", "/dashboard/api/webhooks/rotate");
  assert.equal(res.status, 404, await res.text());

  res = await call(t, "PUT", "/dashboard/api/webhooks", { url: `${receiver.url}/hook` });
  const old = (await json(res)).body.secret as string;
  res = await call(t, "POST", "/dashboard/api/webhooks/rotate");
  let { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.match(body.secret, /^whsec_/);
  assert.notEqual(body.secret, old);
  const secret: string = body.secret;

  res = await call(t, "POST", "/dashboard/api/webhooks/test");
  ({ body, text } = await json(res));
  assert.equal(res.status, 202, text);
  assert.match(body.eventId, /^msg_/);
  const loop = deliveryLoop(t);
  assert.equal(await loop.runPass(), 1);
  const [got] = receiver.hits();
  assert.equal(got.id, body.eventId);
  const payload = verify(secret, got) as { type: string; data: { platformId: string } };
  assert.equal(payload.type, "webhook.test");
  assert.throws(() => verify(old, got), "the old secret still verifies");

  res = await call(t, "GET", "/dashboard/api/webhooks");
  ({ body, text } = await json(res));
  assert.equal(body.deliveries.length, 1, text);
  assert.equal(body.deliveries[0].status, "delivered");
  assert.equal(body.deliveries[0].responseStatus, 200);
  assert.equal(body.health.failing, false);
});

Deno.test("DELETE removes the endpoint; then the test event and rotation answer 404", async () => {
  await using t = await testApp();
  await seedPaidFounder(t.kv, USER);
  await call(t, "PUT", "/dashboard/api/webhooks", { url: "http://127.0.0.1:9/hook" });
  let res = await call(t, "DELETE", "/dashboard/api/webhooks");
  let { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.deepEqual(body, { deleted: true });
  res = await call(t, "DELETE", "/dashboard/api/webhooks");
  assert.deepEqual((await json(res)).body, { deleted: false });
  ({ body, text } = await json(await call(t, "GET", "/dashboard/api/webhooks")));
  assert.equal(body.endpoint, null, text);
  for (const path of ["/dashboard/api/webhooks/test", "/dashboard/api/webhooks/rotate"]) {
    res = await call(t, "POST", path);
    ({ body, text } = await json(res));
    assert.equal(res.status, 404, text);
    assert.equal(body.error.code, "not_found", text);
  }
});

Deno.test("in production, PUT refuses http, private and loopback addresses and names resolving to them", async () => {
  const config = {
    ...parseConfig({ APP_ENV: "test", KV_PATH: ":memory:" }),
    appEnv: "production" as const,
  };
  await using t = await testApp({
    deps: {
      config,
      resolveHost: (host) =>
        Promise.resolve(
          host === "hooks.example.com"
            ? ["93.184.216.34"]
            : host === "internal.example.com"
            ? ["127.0.0.1"]
            : [],
        ),
    },
  });
  await seedPaidFounder(t.kv, USER);
  for (
    const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://169.254.169.254/latest/meta-data/",
      "https://[::1]/x",
      "https://localhost/x",
      "https://internal.example.com/x",
      "not a url",
    ]
  ) {
    const res = await call(t, "PUT", "/dashboard/api/webhooks", { url });
    const { body, text } = await json(res);
    assert.equal(res.status, 400, `${url}: ${text}`);
    assert.equal(body.error.code, "invalid_request", text);
    assert.match(body.error.message, /^url: /, text);
  }
  const res = await call(t, "PUT", "/dashboard/api/webhooks", {
    url: "https://hooks.example.com/x",
  });
  assert.equal(res.status, 201, await res.text());
});

Deno.test("the delivery loop re-checks the URL before each attempt: in production a loopback endpoint is never called", async () => {
  await using receiver = startReceiver();
  await using t = await testApp();
  await seedPaidFounder(t.kv, USER);
  // Saved while the rules allowed it (development); production refuses it at send time.
  await call(t, "PUT", "/dashboard/api/webhooks", { url: `${receiver.url}/hook` });
  await call(t, "POST", "/dashboard/api/webhooks/test");
  const loop = deliveryLoop(t, { production: true });
  assert.equal(await loop.runPass(), 1);
  assert.equal(receiver.received.length, 0);
  const { body } = await json(await call(t, "GET", "/dashboard/api/webhooks"));
  assert.equal(body.deliveries[0].status, "retrying");
  assert.match(body.deliveries[0].error, /^refused: /);
});

Deno.test("the webhooks API is for paid founders: 401 without a session, 402 without a subscription", async () => {
  await using t = await testApp();
  let res = await t.app.request("/dashboard/api/webhooks");
  assert.equal(res.status, 401, await res.text());
  await payFounder(t.kv, USER, "canceled");
  res = await call(t, "PUT", "/dashboard/api/webhooks", { url: "http://127.0.0.1:9/x" });
  const { body, text } = await json(res);
  assert.equal(res.status, 402, text);
  assert.equal(body.error.code, "subscription_required");
});

Deno.test("GET /dashboard/webhooks renders the form, the deliveries and a warning when the endpoint keeps failing; the nav links to it", async () => {
  await using receiver = startReceiver([], 500);
  await using t = await testApp();
  await seedPaidFounder(t.kv, USER);
  await call(t, "PUT", "/dashboard/api/webhooks", { url: `${receiver.url}/hook` });
  const loop = deliveryLoop(t);
  for (let i = 0; i < 5; i++) {
    await call(t, "POST", "/dashboard/api/webhooks/test");
    await loop.runPass();
  }
  const token = await t.signIn(USER);
  const res = await t.app.request("/dashboard/webhooks", {
    headers: founderHeaders(token, { via: "cookie" }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 500));
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(text, /data-testid="webhook-form"/);
  assert.match(text, /data-testid="deliveries-table"/);
  assert.match(text, /data-testid="webhook-failing"/);
  assert.match(text, /href="\/dashboard\/webhooks"/);
  assert.ok(!text.includes("whsec_"), "the page holds a secret");
});

Deno.test("GET /dashboard/webhooks sends the signed-out to sign-in and the unpaid to billing", async () => {
  await using t = await testApp();
  let res = await t.app.request("/dashboard/webhooks");
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get("location"), "/sign-in");
  const token = await t.signIn(USER);
  res = await t.app.request("/dashboard/webhooks", {
    headers: founderHeaders(token, { via: "cookie" }),
  });
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get("location"), "/dashboard/billing");
});
