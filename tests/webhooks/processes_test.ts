/**
 * Delivery across real processes on one KV file: an event committed by a process killed with
 * SIGKILL (before or during its delivery) is delivered by the next one, and two processes running
 * loops make each attempt once.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generateEncryptionKey } from "../../lib/crypto/secrets.ts";
import { listDeliveries } from "../../lib/kv/webhooks.ts";
import { tempKvPath } from "../usage/_kv.ts";
import { startReceiver } from "./_receiver.ts";
import { hookWorld, PLATFORM } from "./_world.ts";

const WORKER = fileURLToPath(new URL("./_loop_worker.ts", import.meta.url));

interface Worker extends AsyncDisposable {
  /** Resolves with the first line the worker prints. */
  firstLine: Promise<string>;
  kill(): Promise<void>;
}

function spawnWorker(args: string[]): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const firstLine = (async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`worker exited early: ${text}`);
      text += value;
    }
    return text.trim();
  })();
  let killed: Promise<void> | undefined;
  const kill = () =>
    killed ??= (async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await reader.cancel().catch(() => {});
    })();
  return { firstLine, kill, [Symbol.asyncDispose]: kill };
}

Deno.test("kill -9 after the commit, before any delivery: the next process delivers the event", async () => {
  await using tmp = await tempKvPath();
  await using receiver = startReceiver();
  const masterKey = generateEncryptionKey();
  await using world = await hookWorld(`${receiver.url}/hook`, { kvPath: tmp.path, masterKey });

  await using queuer = spawnWorker([tmp.path, masterKey, "queue"]);
  const id = (await queuer.firstLine).replace("committed ", "");
  await queuer.kill();
  assert.equal(receiver.received.length, 0);
  assert.equal(await world.outboxSize(), 1, "the commit survived the kill");

  await using deliverer = spawnWorker([tmp.path, masterKey, "loop"]);
  await deliverer.firstLine;
  const [got] = await receiver.waitFor(1, 20_000);
  assert.equal(got.id, id);
});

Deno.test("kill -9 during an attempt: once its lease lapses, another process delivers with the same webhook-id", async () => {
  await using tmp = await tempKvPath();
  // The first attempt never gets an answer: its process dies waiting.
  await using receiver = startReceiver(["hang"], 200);
  const masterKey = generateEncryptionKey();
  await using world = await hookWorld(`${receiver.url}/hook`, { kvPath: tmp.path, masterKey });

  await using first = spawnWorker([tmp.path, masterKey, "loop", "1000"]);
  await first.firstLine;
  const id = await world.queue();
  await receiver.waitFor(1, 20_000);
  await first.kill();

  await using second = spawnWorker([tmp.path, masterKey, "loop", "1000"]);
  await second.firstLine;
  const [hung, delivered] = await receiver.waitFor(2, 20_000);
  assert.equal(hung.id, id);
  assert.equal(delivered.id, id, "the retry keeps the webhook-id");
  const deadline = Date.now() + 10_000;
  while (await world.outboxSize() > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await world.outboxSize(), 0);
  const [entry] = await listDeliveries(world.kv, PLATFORM);
  assert.deepEqual([entry.status, entry.attempt], ["delivered", 2]);
});

Deno.test("two processes running delivery loops on one KV file make each attempt once", async () => {
  await using tmp = await tempKvPath();
  await using receiver = startReceiver();
  const masterKey = generateEncryptionKey();
  await using world = await hookWorld(`${receiver.url}/hook`, { kvPath: tmp.path, masterKey });
  const EVENTS = 60;
  const ids = new Set<string>();
  for (let i = 0; i < EVENTS; i++) ids.add(await world.queue("usage.near_limit", { i }));

  await using a = spawnWorker([tmp.path, masterKey, "loop"]);
  await using b = spawnWorker([tmp.path, masterKey, "loop"]);
  await Promise.all([a.firstLine, b.firstLine]);
  await receiver.waitFor(EVENTS, 30_000);
  const deadline = Date.now() + 10_000;
  while (await world.outboxSize() > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await world.outboxSize(), 0);
  await new Promise((r) => setTimeout(r, 300));
  const seen = receiver.hits().map((r) => r.id!);
  assert.equal(seen.length, EVENTS, `${seen.length} attempts for ${EVENTS} events`);
  assert.deepEqual(new Set(seen), ids);
});
