/**
 * A second process for the meter tests: opens the KV file given as the first argument, says
 * "ready", waits for a line on stdin, then counts the workload and prints what it was answered.
 */
import { UsageMeter } from "../../lib/usage/meter.ts";
import { req } from "./_kv.ts";

const [path, name] = Deno.args;
const kv = await Deno.openKv(path);
const meter = new UsageMeter(kv);
await Deno.stdout.write(new TextEncoder().encode("ready\n"));
await Deno.stdin.readable.getReader().read(); // the start line

const calls = [];
for (let i = 0; i < 600; i++) {
  calls.push(meter.count(req("hot", { limit: 300 })).then((r) => ({ kind: "hot", ...r })));
  calls.push(
    meter.count(req("hot", { limit: 120, feature: "exports" })).then((r) => ({
      kind: "feat",
      ...r,
    })),
  );
  calls.push(
    meter.count(req(`spread-${i % 97}`, { limit: null })).then((r) => ({
      kind: `spread-${i % 97}`,
      ...r,
    })),
  );
  if (i % 3 === 0) {
    calls.push(
      meter.count(req("idem", { limit: null, idempotencyKey: `k${i}` })).then((r) => ({
        kind: `idem:k${i}`,
        ...r,
      })),
    );
  }
}
const results = await Promise.all(calls);
await meter.close();
kv.close();
console.log(JSON.stringify({ name, results }));
