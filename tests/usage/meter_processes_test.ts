/** Two real processes counting through their own meters on one KV file stay exact. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { keys } from "../../lib/kv/keys.ts";
import type { CountResult } from "../../lib/usage/meter.ts";
import { NOV, tempKvPath } from "./_kv.ts";
import { countOf, type StoredCount } from "../../lib/kv/usage.ts";
import { eventsOf, outboxEvents } from "./_outbox.ts";

const WORKER = fileURLToPath(new URL("./_meter_worker.ts", import.meta.url));

type Answer = CountResult & { kind: string };

async function startWorker(path: string, name: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, path, name],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async () => {
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`worker ${name} ended early: ${buffered}`);
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return line;
  };
  assert.equal(await nextLine(), "ready");
  return {
    go: async () => {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    },
    results: async () => {
      const out = JSON.parse(await nextLine()) as { results: Answer[] };
      assert.equal((await child.status).code, 0);
      return out.results;
    },
  };
}

Deno.test("two processes on one KV file: the hot user gets exactly its limit, every grant is counted once", async () => {
  await using tmp = await tempKvPath();
  const workers = await Promise.all([startWorker(tmp.path, "a"), startWorker(tmp.path, "b")]);
  await Promise.all(workers.map((w) => w.go()));
  const results = (await Promise.all(workers.map((w) => w.results()))).flat();

  const granted = (kind: string) =>
    results.filter((r) => r.kind === kind && r.ok && !r.replayed).map((r) => r.count)
      .sort((a, b) => a - b);
  const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  assert.deepEqual(granted("hot"), oneToN(300), "each count value 1..300 granted exactly once");
  assert.equal(results.filter((r) => r.kind === "hot" && !r.ok).length, 900);
  assert.deepEqual(granted("feat"), oneToN(120), "the feature's own limit, exactly");

  const kv = await Deno.openKv(tmp.path);
  const usage = async (userId: string) =>
    countOf((await kv.get<StoredCount>(keys.usage("plt_test", NOV.key, userId))).value);
  assert.equal(await usage("hot"), 300);
  for (let u = 0; u < 97; u++) {
    const kind = `spread-${u}`;
    const n = results.filter((r) => r.kind === kind).length;
    assert.deepEqual(granted(kind), oneToN(n), kind);
    assert.equal(await usage(kind), n, kind);
  }
  // Both processes sent every idempotency key once: each is counted by exactly one of them.
  const idemKinds = [
    ...new Set(results.filter((r) => r.kind.startsWith("idem:")).map((r) => r.kind)),
  ];
  for (const kind of idemKinds) {
    const answers = results.filter((r) => r.kind === kind);
    assert.equal(answers.length, 2);
    assert.equal(answers.filter((r) => r.replayed).length, 1, kind);
    assert.equal(answers[0].count, answers[1].count, kind);
  }
  assert.equal(await usage("idem"), idemKinds.length);
  const feature = await kv.get<StoredCount>(
    keys.usageFeature("plt_test", "exports", NOV.key, "hot"),
  );
  assert.equal(countOf(feature.value), 120);
  // Each threshold event once, whichever process crossed it.
  const events = await outboxEvents(kv);
  assert.deepEqual(eventsOf(events, "hot"), [
    ["usage.near_limit", 240, 300],
    ["usage.limit_reached", 300, 300],
  ]);
  assert.deepEqual(eventsOf(events, "hot", "exports"), [
    ["usage.near_limit", 96, 120],
    ["usage.limit_reached", 120, 120],
  ]);
  assert.equal(events.length, 4, "unlimited and spread users send nothing");
  kv.close();
});
