/**
 * Usage analytics recorded inside the meter's own commits: no extra round trip, no read, no check.
 *
 * For each commit, per platform and UTC day: `sum`s of units counted, calls allowed and calls
 * refused (429); per usage period, a `sum` of end-users whose counter went 0 → n (the meter knows
 * the committed count before each request exactly, so this distinct count is exact); per day, a
 * HyperLogLog `max` for the distinct end-users of that day (approximate, 256 registers); and per
 * end-user and period, the tier they were counted under (`keys.usagePlan`), so the dashboard can
 * tell how many of a tier's end-users are near a limit.
 *
 * Cheap by memory of what this process already committed: a HyperLogLog register is written only
 * when it would rise above the value this process last committed (KV holds at least that much, as
 * `max` only raises), and a tier only on an end-user's first units of the period, when it differs
 * from what this process last wrote for them, or when it does not remember them. In the steady state
 * a commit adds 3 to 4 `sum`s per platform and day, whatever the number of requests it carries.
 */
import { keys } from "../kv/keys.ts";
import {
  type CommitCost,
  type CountRequest,
  type DecidedRequest,
  keyBytes,
  type MeterOptions,
} from "../usage/meter.ts";
import type { Period } from "../usage/period.ts";
import { fnv1a, HLL_REGISTERS, hllSlot } from "./hll.ts";

export interface RecorderOptions {
  /** The clock deciding the UTC day of a commit (clamped into each request's period). */
  now: () => Date;
  /** End-users' last written tier remembered (default 100,000). */
  planCacheSize?: number;
  /** Platform-days whose committed HyperLogLog registers are remembered (default 4,096; 256 B each). */
  hllCacheSize?: number;
}

/** Largest serialized size of a tier id value (ids are ≤ 40 ASCII characters). */
const PLAN_VALUE_BYTES = 64;
const U64_BYTES = 8;

interface DayTotals {
  platformId: string;
  day: string;
  units: number;
  allowed: number;
  refused: number;
}

/** Records analytics into the meter's commits. One per process, like the meter. */
export class UsageRecorder {
  readonly #now: () => Date;
  readonly #planCacheSize: number;
  readonly #hllCacheSize: number;
  /** 53-bit hash of (platform, period, end-user) → the tier this process last committed for them. */
  readonly #plans = new Map<number, string>();
  /** platform + day → register values this process has committed (KV holds at least these). */
  readonly #registers = new Map<string, Uint8Array>();

  constructor(options: RecorderOptions) {
    this.#now = options.now;
    this.#planCacheSize = options.planCacheSize ?? 100_000;
    this.#hllCacheSize = options.hllCacheSize ?? 4_096;
  }

  /**
   * The meter options that make every commit record analytics.
   * @example new UsageMeter(kv, { ...recorder.meterOptions(), reads })
   */
  meterOptions(): Required<Pick<MeterOptions, "beforeCommit" | "commitCost">> {
    return {
      beforeCommit: (op, decided) => this.record(op, decided),
      commitCost: (req) => this.cost(req),
    };
  }

  /**
   * The most one request adds: a register `max` and a tier `set` each; per platform and period,
   * 3 daily `sum`s and the distinct-users `sum`.
   */
  cost(req: CountRequest): { each: CommitCost; group: string; once: CommitCost } {
    const planKey = keyBytes(keys.usagePlan(req.platformId, req.period.key, req.userId));
    const day = "0000-00-00";
    const registerKey = keyBytes(keys.usageHllRegister(req.platformId, day, HLL_REGISTERS));
    const dailyKeys = 3 * keyBytes(keys.usageDailyMetric(req.platformId, day, "refused"));
    const activeKey = keyBytes(keys.usageActive(req.platformId, req.period.key));
    return {
      each: {
        mutations: 2,
        keyBytes: planKey + registerKey,
        mutationBytes: planKey + PLAN_VALUE_BYTES + registerKey + U64_BYTES,
      },
      group: `${req.platformId}\u0000${req.period.key}`,
      once: {
        mutations: 4,
        keyBytes: dailyKeys + activeKey,
        mutationBytes: dailyKeys + activeKey + 4 * U64_BYTES,
      },
    };
  }

  /** Adds this commit's analytics to `op`; returns what to remember once the commit succeeded. */
  record(op: Deno.AtomicOperation, decided: readonly DecidedRequest[]): () => void {
    const now = this.#now().getTime();
    const days = new Map<string, DayTotals>();
    const firsts = new Map<string, { platformId: string; period: string; users: number }>();
    const registers = new Map<
      string,
      { platformId: string; day: string; register: number; rank: number }
    >();
    const plans = new Map<string, { req: CountRequest; hash: number }>();
    const dayOfPeriod = new Map<string, string>();

    for (const { req, ok, before } of decided) {
      let day = dayOfPeriod.get(req.period.key);
      if (day === undefined) dayOfPeriod.set(req.period.key, day = dayOf(req.period, now));
      const dayId = `${req.platformId}\u0000${day}`;
      let totals = days.get(dayId);
      if (!totals) {
        totals = { platformId: req.platformId, day, units: 0, allowed: 0, refused: 0 };
        days.set(dayId, totals);
      }
      if (!ok) {
        totals.refused++;
        continue;
      }
      totals.allowed++;
      totals.units += req.amount;

      const periodId = `${req.platformId}\u0000${req.period.key}`;
      if (before === 0) {
        const first = firsts.get(periodId);
        if (first) first.users++;
        else firsts.set(periodId, { platformId: req.platformId, period: req.period.key, users: 1 });
      }

      const { register, rank } = hllSlot(req.userId);
      if ((this.#registers.get(dayId)?.[register] ?? 0) < rank) {
        const id = `${dayId}\u0000${register}`;
        const pending = registers.get(id);
        if (!pending) registers.set(id, { platformId: req.platformId, day, register, rank });
        else if (pending.rank < rank) pending.rank = rank;
      }

      const counterId = `${periodId}\u0000${req.userId}`;
      const hash = hash53(counterId);
      const known = this.#plans.get(hash);
      // Later requests of the same end-user in this commit win: the tier of their latest call.
      if (before === 0 || known !== req.plan || plans.has(counterId)) {
        plans.set(counterId, { req, hash });
      }
    }

    for (const t of days.values()) {
      if (t.allowed > 0) {
        op.sum(keys.usageDailyMetric(t.platformId, t.day, "units"), BigInt(t.units));
        op.sum(keys.usageDailyMetric(t.platformId, t.day, "allowed"), BigInt(t.allowed));
      }
      if (t.refused > 0) {
        op.sum(keys.usageDailyMetric(t.platformId, t.day, "refused"), BigInt(t.refused));
      }
    }
    for (const f of firsts.values()) {
      op.sum(keys.usageActive(f.platformId, f.period), BigInt(f.users));
    }
    for (const r of registers.values()) {
      op.max(keys.usageHllRegister(r.platformId, r.day, r.register), BigInt(r.rank));
    }
    for (const { req } of plans.values()) {
      op.set(keys.usagePlan(req.platformId, req.period.key, req.userId), req.plan);
    }

    return () => {
      for (const r of registers.values()) {
        const id = `${r.platformId}\u0000${r.day}`;
        let values = this.#registers.get(id);
        if (!values) {
          values = new Uint8Array(HLL_REGISTERS);
          this.#registers.set(id, values);
          if (this.#registers.size > this.#hllCacheSize) {
            this.#registers.delete(this.#registers.keys().next().value!);
          }
        }
        if (values[r.register] < r.rank) values[r.register] = r.rank;
      }
      for (const { req, hash } of plans.values()) {
        this.#plans.delete(hash);
        this.#plans.set(hash, req.plan);
        if (this.#plans.size > this.#planCacheSize) {
          this.#plans.delete(this.#plans.keys().next().value!);
        }
      }
    };
  }
}

/**
 * The UTC day a commit at `nowMs` records a request on: the commit's day, kept inside the request's
 * period, so a month's daily sums always add up to that month's counters (a request taken at
 * 23:59:59.999 on the last day and committed a moment later still belongs to its month).
 */
export function dayOf(period: Period, nowMs: number): string {
  const start = period.start.getTime();
  const end = period.end.getTime();
  const t = nowMs < start ? start : nowMs >= end ? end - 1 : nowMs;
  return new Date(t).toISOString().slice(0, 10);
}

/** A 53-bit hash (two FNV-1a runs): remembering tiers by number keeps the cache small. */
function hash53(text: string): number {
  return (fnv1a(text, 0x811c9dc5) & 0x1fffff) * 0x1_0000_0000 + fnv1a(text, 0x01000193);
}
