import assert from "node:assert/strict";
import { seedPlatform, tenantHeaders } from "../_helpers/app.ts";
import { startServer } from "../_helpers/server.ts";
import { FEATURE_TIERS } from "./_features.ts";

Deno.test("exactness: two server processes on one KV file grant exactly the limit", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const kv = await Deno.openKv(kvPath);
  const { apiKey } = await seedPlatform(kv);
  kv.close();

  await using a = await startServer({ KV_PATH: kvPath });
  await using b = await startServer({ KV_PATH: kvPath });
  const call = (i: number) =>
    fetch(`${i % 2 === 0 ? a.url : b.url}/api/data`, {
      method: "POST",
      headers: tenantHeaders(apiKey, "hot-user"),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));

  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(i)));
  const by = (s: number) => results.filter((r) => r.status === s).length;
  const logs = () => `server logs:\n${a.output().slice(-3000)}\n${b.output().slice(-3000)}`;
  assert.equal(by(200), 100, logs());
  assert.equal(by(429), 900, `${by(500)} × 500; ${logs()}`);
  for (const server of [a, b]) {
    const res = await fetch(`${server.url}/api/usage`, {
      headers: tenantHeaders(apiKey, "hot-user"),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).usage.count, 100);
  }
  assert.equal(await a.stop(), 0, a.output());
  assert.equal(await b.stop(), 0, b.output());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("exactness: two server processes on one KV file grant exactly a feature's limit", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const kv = await Deno.openKv(kvPath);
  const { apiKey } = await seedPlatform(kv, FEATURE_TIERS);
  kv.close();

  await using a = await startServer({ KV_PATH: kvPath });
  await using b = await startServer({ KV_PATH: kvPath });
  const call = (i: number) =>
    fetch(`${i % 2 === 0 ? a.url : b.url}/api/data`, {
      method: "POST",
      headers: tenantHeaders(apiKey, "hot-user", { "x-user-plan": "pro" }),
      body: JSON.stringify({ feature: "exports" }),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));

  const results = await Promise.all(Array.from({ length: 400 }, (_, i) => call(i)));
  const by = (s: number) => results.filter((r) => r.status === s).length;
  const logs = () => `server logs:\n${a.output().slice(-3000)}\n${b.output().slice(-3000)}`;
  assert.equal(by(200), 50, logs());
  assert.equal(by(429), 350, `${by(500)} × 500; ${logs()}`);
  assert.equal(await a.stop(), 0, a.output());
  assert.equal(await b.stop(), 0, b.output());
  // (Its events once across processes: tests/usage/meter_processes_test.ts, without a delivery
  // loop that would take them out of the outbox meanwhile.)
  await Deno.remove(dir, { recursive: true });
});
