/** Reading the founders' outbox in meter tests: the events queued, and that each is due. */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import type { FounderEvent, OutboxRecord } from "../../lib/kv/outbox.ts";

const RANK: Record<string, number> = { "usage.near_limit": 0, "usage.limit_reached": 1 };

/**
 * Every outbox record in KV, oldest first (near_limit before limit_reached of one commit), after
 * checking each has its due index.
 */
export async function outboxEvents(kv: Deno.Kv): Promise<FounderEvent[]> {
  const records: OutboxRecord[] = [];
  for await (const e of kv.list<OutboxRecord>({ prefix: keys.outboxAll() })) records.push(e.value);
  const due = new Set<string>();
  for await (const e of kv.list<string>({ prefix: keys.outboxDueAll() })) due.add(e.value);
  for (const r of records) assert.ok(due.has(r.id), `outbox record ${r.id} has no due index`);
  assert.equal(due.size, records.length, "every due index points to a record");
  return records.sort((a, b) =>
    a.createdAt - b.createdAt || (RANK[a.event.type] ?? 2) - (RANK[b.event.type] ?? 2)
  ).map((r) => r.event);
}

/** The events of one end-user (and feature, or the main meter), as `[type, count, limit]`. */
export function eventsOf(
  events: FounderEvent[],
  userId: string,
  feature?: string,
): [string, number, number][] {
  return events.filter((e) => e.data.userId === userId && e.data.feature === feature).map((e) => {
    const usage = e.data.usage as { count: number; limit: number };
    return [e.type, usage.count, usage.limit];
  });
}
