/**
 * Usage events from end to end, as a founder sees them: two real server processes (main.ts, with
 * their delivery loops) on one KV file take a race of concurrent calls across a feature's and the
 * main meter's thresholds; the founder's endpoint (a real HTTP receiver) gets each event exactly
 * once, signed so that an independent Standard Webhooks implementation verifies it.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { createSecretBox, generateEncryptionKey } from "../../lib/crypto/secrets.ts";
import { updateWebhookEndpoint, webhookSecretContext } from "../../lib/kv/webhooks.ts";
import { generateSigningSecret } from "../../lib/webhooks/signing.ts";
import { seedPlatform, tenantHeaders } from "../_helpers/app.ts";
import { startServer } from "../_helpers/server.ts";
import { FEATURE_TIERS } from "../api/_features.ts";
import { tempKvPath } from "../usage/_kv.ts";
import { startReceiver } from "./_receiver.ts";

interface UsageEvent {
  type: string;
  timestamp: string;
  data: {
    platformId: string;
    userId: string;
    feature?: string;
    plan: string;
    usage: { count: number; limit: number; remaining: number };
    period: { start: string; end: string };
  };
}

Deno.test("a race of 50 calls across thresholds on two processes: each usage event reaches the founder once, verifiably signed", async () => {
  await using tmp = await tempKvPath();
  await using receiver = startReceiver();
  const encryptionKey = generateEncryptionKey();
  const secret = generateSigningSecret();

  const kv = await Deno.openKv(tmp.path);
  const { platformId, apiKey } = await seedPlatform(kv, FEATURE_TIERS);
  const sealed = await (await createSecretBox(encryptionKey)).seal(
    secret,
    webhookSecretContext(platformId),
  );
  const at = new Date().toISOString();
  await updateWebhookEndpoint(kv, platformId, () => ({
    platformId,
    url: `${receiver.url}/hook`,
    events: ["usage.near_limit", "usage.limit_reached"],
    secret: sealed,
    createdAt: at,
    updatedAt: at,
    rotatedAt: null,
  }));
  kv.close();

  const env = { KV_PATH: tmp.path, ENCRYPTION_KEY: encryptionKey };
  await using a = await startServer(env);
  await using b = await startServer(env);

  // The free tier: exports 5 a month (near at 4, reached at 5); the main meter 100 (50 × 2 units).
  const call = (i: number, userId: string, body: unknown) =>
    fetch(`${(i % 2 ? a : b).url}/api/data`, {
      method: "POST",
      headers: { ...tenantHeaders(apiKey, userId), "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (res) => [res.status, await res.text()] as const);
  const answers = await Promise.all([
    ...Array.from({ length: 50 }, (_, i) => call(i, "u_feature", { feature: "exports" })),
    ...Array.from({ length: 50 }, (_, i) => call(i, "u_main", { amount: 2 })),
  ]);
  const statuses = (from: number) =>
    answers.slice(from, from + 50).reduce<Record<number, number>>((n, [s]) => {
      n[s] = (n[s] ?? 0) + 1;
      return n;
    }, {});
  assert.deepEqual(statuses(0), { 200: 5, 429: 45 }, JSON.stringify(answers.slice(0, 3)));
  assert.deepEqual(statuses(50), { 200: 50 }, JSON.stringify(answers.slice(50, 53)));

  const got = await receiver.waitFor(4, 20_000);
  // Duplicates, if any, would come from the other process's loop or a retry: give them time.
  await new Promise((r) => setTimeout(r, 2_500));
  const hits = receiver.hits();
  assert.equal(hits.length, 4, JSON.stringify(hits.map((h) => h.body)));
  assert.equal(new Set(hits.map((h) => h.id)).size, 4, "four distinct webhook-ids");

  const verifier = new Webhook(secret);
  const events = got.concat(hits.slice(got.length)).map((hit) =>
    verifier.verify(hit.body, {
      "webhook-id": hit.id!,
      "webhook-timestamp": hit.timestamp!,
      "webhook-signature": hit.signature!,
    }) as UsageEvent
  );
  const seen = events.map((e) => [e.type, e.data.userId, e.data.feature ?? null, e.data.usage])
    .sort((x, y) =>
      String(x[1]).localeCompare(String(y[1])) || String(x[0]).localeCompare(String(y[0]))
    );
  assert.deepEqual(seen, [
    ["usage.limit_reached", "u_feature", "exports", { count: 5, limit: 5, remaining: 0 }],
    ["usage.near_limit", "u_feature", "exports", { count: 4, limit: 5, remaining: 1 }],
    ["usage.limit_reached", "u_main", null, { count: 100, limit: 100, remaining: 0 }],
    ["usage.near_limit", "u_main", null, { count: 80, limit: 100, remaining: 20 }],
  ], JSON.stringify(events));
  for (const e of events) {
    assert.equal(e.data.platformId, platformId);
    assert.equal(e.data.plan, "free");
  }
});
