/**
 * A driver isolate of bench/meter_host.ts: asked `{ t: "run", … }`, it runs `concurrency` loops
 * of counts through a `RemoteMeter` to the isolate that started it, then answers `{ t: "ran" }`.
 */
import { RemoteMeter } from "../lib/usage/remote_meter.ts";
import type { Meter } from "../lib/usage/meter.ts";
import { periodOf } from "../lib/usage/period.ts";

interface Run {
  t: "run";
  platformId: string;
  prefix: string;
  users: number;
  requests: number;
  concurrency: number;
}

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
};
const noReads: Meter = {
  count: () => Promise.reject(new Error("not here")),
  read: () => Promise.reject(new Error("not here")),
  close: () => Promise.resolve(),
};
const meter = new RemoteMeter(scope, noReads);

scope.addEventListener("message", async (event) => {
  const run = event.data as Run;
  if (run?.t !== "run") return;
  const period = periodOf("month", new Date());
  let next = 0;
  let refused = 0;
  await Promise.all(Array.from({ length: run.concurrency }, async () => {
    while (next < run.requests) {
      const i = next++;
      const result = await meter.count({
        platformId: run.platformId,
        userId: `${run.prefix}${i % run.users}`,
        plan: "free",
        period,
        limit: null,
        amount: 1,
      });
      if (!result.ok) refused++;
    }
  }));
  scope.postMessage({ t: "ran", refused });
});
