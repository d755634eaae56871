/**
 * Helpers of the meter tests: temp KV files, periods, a KV that audits every commit, and the
 * disposable world most meter tests start from.
 */
import { periodOf } from "../../lib/usage/period.ts";
import { type CountRequest, type MeterOptions, UsageMeter } from "../../lib/usage/meter.ts";

/** A fresh temp directory with a KV file path in it; removed on dispose. */
export async function tempKvPath(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "dream-meter-" });
  return {
    path: `${dir}/usage.kv`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export const NOV = periodOf("month", new Date("2026-11-15T12:00:00Z"));
export const DEC = periodOf("month", new Date("2026-12-01T00:00:00Z"));

/** A count request with test defaults. */
export function req(userId: string, over: Partial<CountRequest> = {}): CountRequest {
  return {
    platformId: "plt_test",
    userId,
    plan: "free",
    period: NOV,
    limit: 100,
    amount: 1,
    ...over,
  };
}

/** What one commit sent, as seen by `auditedKv`. */
export interface CommitAudit {
  checks: number;
  mutations: number;
}

const MUTATIONS = new Set(["set", "delete", "sum", "min", "max", "enqueue"]);

/**
 * Wraps a real `Deno.Kv` so that every `atomic()` records its checks and mutations and refuses,
 * like the self-hosted denokv server, an operation with more than 10 checks or 1,000 mutations.
 */
export function auditedKv(
  kv: Deno.Kv,
  commits: CommitAudit[] = [],
): { kv: Deno.Kv; commits: CommitAudit[] } {
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const audit: CommitAudit = { checks: 0, mutations: 0 };
          const wrapped: Deno.AtomicOperation = new Proxy(op, {
            get(opTarget, name) {
              const method = Reflect.get(opTarget, name, opTarget);
              if (typeof method !== "function") return method;
              return (...args: unknown[]) => {
                if (name === "check") audit.checks += args.length;
                else if (name === "mutate") audit.mutations += args.length;
                else if (MUTATIONS.has(String(name))) audit.mutations += 1;
                if (name === "commit") {
                  commits.push(audit);
                  if (audit.checks > 10 || audit.mutations > 1000) {
                    return Promise.reject(
                      new TypeError(
                        `denokv refuses: ${audit.checks} checks, ${audit.mutations} mutations`,
                      ),
                    );
                  }
                }
                const out = method.apply(opTarget, args);
                return out === opTarget ? wrapped : out;
              };
            },
          });
          return wrapped;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxy, commits };
}

/** A KV file with meters on it, closed and removed by `await using`. */
export interface MeterWorld extends AsyncDisposable {
  /** The platform `req()` counts for. */
  platformId: string;
  path: string;
  /** The first meter's handle (the real one when audited). */
  kv: Deno.Kv;
  /** One handle per meter, in the meters' order. */
  handles: Deno.Kv[];
  meter: UsageMeter;
  meters: UsageMeter[];
  /** The commits of the audited meters (`audited: true`). */
  commits: CommitAudit[];
  /** Another handle of the file, closed with the world. */
  open(): Promise<Deno.Kv>;
  /** A meter on `kv` with `options`, closed with the world. */
  meterOn(kv: Deno.Kv, options?: MeterOptions): UsageMeter;
}

/**
 * A temp KV file with `meters` meters (default 1), each on a handle of its own; with
 * `readHandles`, each also reads through another handle of its own; with `audited`, they write
 * through `auditedKv`. Disposing closes every meter (answering what they took) and every handle,
 * then removes the file.
 */
export async function meterWorld(
  setup: { meters?: number; readHandles?: boolean; audited?: boolean; options?: MeterOptions } = {},
): Promise<MeterWorld> {
  const dir = await Deno.makeTempDir({ prefix: "dream-meter-" });
  const path = `${dir}/usage.kv`;
  const opened: Deno.Kv[] = [];
  const made: UsageMeter[] = [];
  const commits: CommitAudit[] = [];
  const open = async () => {
    const kv = await Deno.openKv(path);
    opened.push(kv);
    return kv;
  };
  const meterOn = (kv: Deno.Kv, options?: MeterOptions) => {
    const meter = new UsageMeter(kv, options);
    made.push(meter);
    return meter;
  };
  const handles: Deno.Kv[] = [];
  for (let i = 0; i < (setup.meters ?? 1); i++) handles.push(await open());
  const readers: Deno.Kv[] = [];
  if (setup.readHandles) { for (const _ of handles) readers.push(await open()); }
  const meters = handles.map((kv, i) => {
    const writes = setup.audited ? auditedKv(kv, commits).kv : kv;
    return meterOn(writes, { ...setup.options, ...(setup.readHandles && { reads: readers[i] }) });
  });
  return {
    platformId: "plt_test",
    path,
    kv: handles[0],
    handles,
    meter: meters[0],
    meters,
    commits,
    open,
    meterOn,
    async [Symbol.asyncDispose]() {
      for (const meter of made) await meter.close();
      for (const kv of opened) {
        try {
          kv.close();
        } catch {
          // closed by the test already
        }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}
