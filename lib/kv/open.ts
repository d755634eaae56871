/**
 * Opening Deno KV from the configuration (a file with its folder created, `:memory:`, a KV Connect
 * URL, or Deploy's own), proving it can write, and telling storage faults from bugs.
 */
import { dirname } from "node:path";
import { keys } from "./keys.ts";

/** KV_PATH cannot be used: its message is the one line start-up prints. */
export class KvOpenError extends Error {
  override name = "KvOpenError";
}

/**
 * Opens KV at `path` and proves it can write (one tiny write to the health key), so an unusable
 * `KV_PATH` (a path under a file, a folder that cannot be written, a full disk) stops start-up
 * with a `KvOpenError` naming it instead of failing the first request.
 */
export async function openKv(path: string | undefined): Promise<Deno.Kv> {
  const where = path === undefined ? "the platform's default KV" : `KV_PATH "${path}"`;
  let kv: Deno.Kv | undefined;
  try {
    if (path && path !== ":memory:" && !/^https?:\/\//.test(path)) {
      await Deno.mkdir(dirname(path), { recursive: true });
    }
    kv = await Deno.openKv(path);
    await probeWrite(kv, Date.now());
    return kv;
  } catch (error) {
    kv?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new KvOpenError(`dream-api cannot start: ${where} cannot be used (${reason}).`);
  }
}

/**
 * The server's two handles on KV at `path`: `kv` for commits and `reads` for the hot path's reads,
 * because a handle runs its operations in turn, so on a KV file a read would wait behind a commit's
 * fsync. `:memory:` opened twice is two databases: one handle serves both there.
 */
export async function openKvPair(
  path: string | undefined,
): Promise<{ kv: Deno.Kv; reads: Deno.Kv }> {
  const kv = await openKv(path);
  try {
    return { kv, reads: path === ":memory:" ? kv : await openKv(path) };
  } catch (error) {
    kv.close();
    throw error;
  }
}

/** One tiny write: whether KV can write at all. */
function probeWrite(kv: Deno.Kv, nowMs: number): Promise<unknown> {
  return kv.set(keys.health(), nowMs);
}

/**
 * Whether an error means the storage cannot serve now (disk full, I/O error, locked, read-only,
 * closed) rather than a bug: these answer 503 `unavailable` and a retry can succeed. Deno KV
 * reports SQLite's errors as `TypeError`s with SQLite's message, and a closed handle as
 * `BadResource`.
 */
export function isStorageFault(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    (error instanceof Error && STORAGE_FAULT.test(error.message));
}

const STORAGE_FAULT =
  /database or disk is full|disk I\/O error|database (?:table )?is locked|database is busy|SQLITE_(?:BUSY|FULL|IOERR|READONLY|CANTOPEN)|readonly database|unable to open database file|No space left on device|Read-only file system/i;

/** How long a write probe's answer is reused: `/health` writes at most once a second. */
const PROBE_EVERY_MS = 1_000;
const probes = new WeakMap<Deno.Kv, { at: number; result: Promise<boolean> }>();

/**
 * Whether `kv` can write, by a tiny write to one health key at most once a second per handle
 * (the answer is cached, and concurrent callers share one write).
 */
export function kvCanWrite(kv: Deno.Kv, nowMs: number): Promise<boolean> {
  const last = probes.get(kv);
  if (last && nowMs - last.at < PROBE_EVERY_MS && nowMs >= last.at) return last.result;
  const result = probeWrite(kv, nowMs).then(() => true, () => false);
  probes.set(kv, { at: nowMs, result });
  return result;
}
