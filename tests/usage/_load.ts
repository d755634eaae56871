/** A small load client for the black-box server tests: concurrent loops of POST /api/data. */
import { tenantHeaders } from "../_helpers/app.ts";
import { keys } from "../../lib/kv/keys.ts";
import { countOf, type StoredCount } from "../../lib/kv/usage.ts";

export interface LoadTally {
  /** answers by status */
  statuses: Map<number, number>;
  /** requests whose outcome the client never learned (connection refused, reset, …) */
  unknown: number;
}

/**
 * Runs `connections` loops of POST /api/data over `users` end-users until `stopWhen` says so
 * (checked after each answer) and then until the server stops answering; calls `onOk` after
 * every 200.
 */
export async function hammer(
  url: string,
  apiKey: string,
  options: {
    connections: number;
    users: number;
    onOk: (oks: number) => void;
  },
): Promise<LoadTally> {
  const tally: LoadTally = { statuses: new Map(), unknown: 0 };
  let oks = 0;
  let i = 0;
  // Each loop ends at its first request without an answer: the server is gone.
  await Promise.all(Array.from({ length: options.connections }, async () => {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
    try {
      for (;;) {
        const userId = `user-${i++ % options.users}`;
        let status: number;
        try {
          const res = await fetch(`${url}/api/data`, {
            method: "POST",
            headers: tenantHeaders(apiKey, userId),
            client,
          });
          await res.body?.cancel();
          status = res.status;
        } catch {
          tally.unknown++;
          return;
        }
        tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
        if (status === 200) options.onOk(++oks);
      }
    } finally {
      client.close();
    }
  }));
  return tally;
}

/** The sum of every end-user's usage of a platform in every period, read from KV. */
export async function totalUsage(kvPath: string, platformId: string): Promise<number> {
  const kv = await Deno.openKv(kvPath);
  try {
    let total = 0;
    for await (const entry of kv.list<StoredCount>({ prefix: keys.usageAll(platformId) })) {
      total += countOf(entry.value);
    }
    return total;
  } finally {
    kv.close();
  }
}
