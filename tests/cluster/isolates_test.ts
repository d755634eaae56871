/**
 * host.ts's HTTP isolates as `supervise` sees them (lib/cluster/isolates.ts): an isolate that
 * throws or exits reports it, one asked to stop drains and exits 0, and none takes the process down.
 * Real Workers.
 */
import assert from "node:assert/strict";
import { clusterHost, spawnIsolate } from "../../lib/cluster/isolates.ts";
import type { Meter } from "../../lib/usage/meter.ts";

const MAIN = new URL("./_isolate.ts", import.meta.url);
const NO_METER: Meter = {
  count: () => Promise.reject(new Error("no meter")),
  read: () => Promise.resolve(0),
  close: () => Promise.resolve(),
};

Deno.test("an isolate that throws settles as failed (code 1) and the process lives on", async () => {
  const isolate = spawnIsolate({ main: MAIN, number: 1, meter: NO_METER, wake: () => {} });
  assert.equal(isolate.isolate, 1);
  assert.equal(isolate.pid, Deno.pid);
  assert.deepEqual(await isolate.status, { success: false, code: 1, signal: null });
});

Deno.test("an isolate that exits reports its code to the host", async () => {
  const isolate = spawnIsolate({ main: MAIN, number: 2, meter: NO_METER, wake: () => {} });
  assert.deepEqual(await isolate.status, { success: false, code: 3, signal: null });
});

Deno.test("an isolate wakes the host's webhook loop, and drains with 0 when asked to stop", async () => {
  let woken = 0;
  let wake!: () => void;
  const wakeSeen = new Promise<void>((resolve) => wake = resolve);
  const isolate = spawnIsolate({
    main: MAIN,
    number: 3,
    meter: NO_METER,
    wake: () => (woken++, wake()),
  });
  await wakeSeen;
  isolate.kill("SIGTERM");
  assert.deepEqual(await isolate.status, { success: true, code: 0, signal: null });
  assert.equal(woken, 1);
});

Deno.test("outside a Worker, clusterHost() is null: main.ts then runs as a process of its own", () => {
  assert.equal(clusterHost(), null);
});
