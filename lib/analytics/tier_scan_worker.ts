/**
 * Worker: reads a period's tier records from the KV file on its own thread, so a snapshot's two
 * lists are decoded on two cores (see `buildSnapshot`). Answers `{ ok, column }` once, then closes.
 */
import { readTiers } from "./tier_scan.ts";

interface Scope {
  onmessage:
    | ((e: MessageEvent<{ path: string; platformId: string; period: string }>) => void)
    | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
}

const scope = self as unknown as Scope;
scope.onmessage = async (e) => {
  try {
    const kv = await Deno.openKv(e.data.path);
    try {
      const column = await readTiers(kv, e.data.platformId, e.data.period);
      scope.postMessage({ ok: true, column }, [column.plans.buffer]);
    } finally {
      kv.close();
    }
  } catch {
    scope.postMessage({ ok: false });
  }
  scope.close();
};
