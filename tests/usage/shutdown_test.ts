/**
 * SIGTERM and SIGINT stop the real server gracefully: it stops accepting, commits and answers
 * what it holds, then exits 0, and every 200 a client saw is counted in KV.
 */
import assert from "node:assert/strict";
import { seedPlatform } from "../_helpers/app.ts";
import { startServer } from "../_helpers/server.ts";
import { hammer, totalUsage } from "./_load.ts";
import { tempKvPath } from "./_kv.ts";

const UNLIMITED = [{ id: "free", name: "Free", price: 0, limit: null, period: "month" as const }];

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} under load: the server exits 0 and every 200 it answered is in KV`, async () => {
    await using tmp = await tempKvPath();
    const kv = await Deno.openKv(tmp.path);
    const { platformId, apiKey } = await seedPlatform(kv, UNLIMITED);
    kv.close();

    await using server = await startServer({ KV_PATH: tmp.path });
    let exit: Promise<number> | undefined;
    const tally = await hammer(server.url, apiKey, {
      connections: 32,
      users: 50,
      onOk: (oks) => {
        if (oks === 500) exit = server.stop(signal);
      },
    });
    assert.ok(exit, "the load never reached 500 answers");
    assert.equal(await exit, 0, server.output());
    assert.match(server.output(), /"message":"shutting down"/);

    const oks = tally.statuses.get(200) ?? 0;
    assert.deepEqual([...tally.statuses.keys()], [200], `only 200s: ${[...tally.statuses]}`);
    const usage = await totalUsage(tmp.path, platformId);
    // Every request the server took was committed and answered: the counts match exactly. (The
    // requests without an answer were refused at the door, after the listener closed.)
    assert.equal(usage, oks, `${oks} × 200 seen, ${usage} counted, ${tally.unknown} unanswered`);
  });
}
