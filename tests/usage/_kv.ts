/** Helpers of the meter tests: temp KV files, periods, and a KV that audits every commit. */
import { periodOf } from "../../lib/usage/period.ts";
import type { CountRequest } from "../../lib/usage/meter.ts";

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
export function auditedKv(kv: Deno.Kv): { kv: Deno.Kv; commits: CommitAudit[] } {
  const commits: CommitAudit[] = [];
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
