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
 *
 * A request that counts a metered feature (`req.feature`) is recorded the same way under the
 * feature's own keys (`keys.usageFeature*`: daily sums, daily registers, distinct end-users of its
 * period), never in the main meter's, whose figures stay those of the calls naming no feature. Its
 * end-user's tier goes to the one `keys.usagePlan` of the feature's period, which the main meter's
 * requests share: the tier an end-user was counted under is one fact, whatever they counted.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { keys } from "../kv/keys.ts";
import { type CommitCost, keyBytes } from "../kv/packing.ts";
import {
  type CountRequest,
  type DecidedRequest,
  type MeterOptions,
  UsageMeter,
} from "../usage/meter.ts";
import type { Period } from "../usage/period.ts";
import { fnv1a } from "../hash.ts";
import { HLL_REGISTERS, hllSlot } from "./hll.ts";

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

/**
 * The server's meter: usage analytics ride in its own commits (no extra round trip on the hot
 * path), and it reads through `reads` (see `openKvPair`).
 */
export function recordingMeter(kv: Deno.Kv, reads: Deno.Kv): UsageMeter {
  return new UsageMeter(kv, {
    ...new UsageRecorder({ now: () => new Date() }).meterOptions(),
    reads,
  });
}

/** Records analytics into the meter's commits. One per process, like the meter. */
export class UsageRecorder {
  readonly #now: () => Date;
  /** 53-bit hash of (platform, period, end-user) → the tier this process last committed for them. */
  readonly #plans: BoundedCache<number, string>;
  /** platform + day → register values this process has committed (KV holds at least these). */
  readonly #registers: BoundedCache<string, Uint8Array>;
  /** platform → period (`feature\0period` for a feature) → key sizes for `cost` */
  readonly #costBases = new Map<string, Map<string, CostBase>>();

  constructor(options: RecorderOptions) {
    this.#now = options.now;
    this.#plans = new BoundedCache(options.planCacheSize ?? 100_000);
    this.#registers = new BoundedCache(options.hllCacheSize ?? 4_096);
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
   * The most one request adds: a register `max` and a tier `set` each; per platform, feature (or
   * main meter) and period, 3 daily `sum`s and the distinct-users `sum`.
   */
  cost(req: CountRequest): { each: CommitCost; group: string; once: CommitCost } {
    const base = this.#costBase(req.platformId, req.period.key, req.feature);
    const planKey = base.planKey + stringBytes(req.userId);
    return {
      each: {
        mutations: 2,
        keyBytes: planKey + base.registerKey,
        mutationBytes: planKey + PLAN_VALUE_BYTES + base.registerKey + U64_BYTES,
      },
      group: base.group,
      once: base.once,
    };
  }

  /** Adds this commit's analytics to `op`; returns what to remember once the commit succeeded. */
  record(op: Deno.AtomicOperation, decided: readonly DecidedRequest[]): () => void {
    const now = this.#now().getTime();
    // meter (platform, or platform + feature) → period key → group; days are shared by a
    // meter's groups of the same day.
    const groups = new Map<string, Map<string, Group>>();
    const days = new Map<string, Day>();
    const plans = new Map<number, CountRequest>();

    for (const { req, ok, before } of decided) {
      // The main meter's requests group by platform exactly as before features existed.
      const meter = req.feature === undefined
        ? req.platformId
        : `${req.platformId}\u0000${req.feature}`;
      let byPeriod = groups.get(meter);
      if (!byPeriod) groups.set(meter, byPeriod = new Map());
      let group = byPeriod.get(req.period.key);
      if (!group) {
        group = this.#group(req, meter, dayOf(req.period, now), days);
        byPeriod.set(req.period.key, group);
      }
      const day = group.day;
      if (!ok) {
        day.refused++;
        continue;
      }
      day.allowed++;
      day.units += req.amount;
      if (before === 0) group.firsts++;

      const { register, rank } = hllSlot(req.userId);
      if ((day.committed?.[register] ?? 0) < rank && (day.raise.get(register) ?? 0) < rank) {
        day.raise.set(register, rank);
      }

      const hash = (fnv1a(req.userId, group.seeds[0]) & 0x1fffff) * 0x1_0000_0000 +
        fnv1a(req.userId, group.seeds[1]);
      // Later requests of the same end-user in this commit win: the tier of their latest call.
      if (before === 0 || this.#plans.get(hash) !== req.plan || plans.has(hash)) {
        plans.set(hash, req);
      }
    }

    for (const day of days.values()) {
      const { platformId, feature } = day;
      const metric = feature === undefined
        ? (name: "units" | "allowed" | "refused") =>
          keys.usageDailyMetric(platformId, day.day, name)
        : (name: "units" | "allowed" | "refused") =>
          keys.usageFeatureDailyMetric(platformId, feature, day.day, name);
      if (day.allowed > 0) {
        op.sum(metric("units"), BigInt(day.units));
        op.sum(metric("allowed"), BigInt(day.allowed));
      }
      if (day.refused > 0) op.sum(metric("refused"), BigInt(day.refused));
      for (const [register, rank] of day.raise) {
        op.max(
          feature === undefined
            ? keys.usageHllRegister(platformId, day.day, register)
            : keys.usageFeatureHllRegister(platformId, feature, day.day, register),
          BigInt(rank),
        );
      }
    }
    for (const byPeriod of groups.values()) {
      for (const group of byPeriod.values()) {
        if (group.firsts === 0) continue;
        op.sum(
          group.feature === undefined
            ? keys.usageActive(group.platformId, group.period)
            : keys.usageFeatureActive(group.platformId, group.feature, group.period),
          BigInt(group.firsts),
        );
      }
    }
    for (const req of plans.values()) {
      op.set(keys.usagePlan(req.platformId, req.period.key, req.userId), req.plan);
    }

    return () => {
      for (const day of days.values()) {
        if (day.raise.size === 0) continue;
        let values = this.#registers.get(day.id);
        if (!values) this.#registers.set(day.id, values = new Uint8Array(HLL_REGISTERS));
        for (const [register, rank] of day.raise) {
          if (values[register] < rank) values[register] = rank;
        }
      }
      for (const [hash, req] of plans) this.#plans.set(hash, req.plan);
    };
  }

  #group(req: CountRequest, meter: string, date: string, days: Map<string, Day>): Group {
    const dayId = `${meter}\u0000${date}`;
    let day = days.get(dayId);
    if (!day) {
      day = {
        id: dayId,
        platformId: req.platformId,
        feature: req.feature,
        day: date,
        units: 0,
        allowed: 0,
        refused: 0,
        committed: this.#registers.get(dayId),
        raise: new Map(),
      };
      days.set(dayId, day);
    }
    // The tier cache's key is the platform's, period's and end-user's: as `keys.usagePlan` is.
    const id = `${req.platformId}\u0000${req.period.key}`;
    return {
      platformId: req.platformId,
      feature: req.feature,
      period: req.period.key,
      day,
      firsts: 0,
      seeds: [fnv1a(id, 0x811c9dc5), fnv1a(id, 0x01000193)],
    };
  }

  /** Key sizes of a platform and period, computed once (the hot path asks for every request). */
  #costBase(platformId: string, period: string, feature: string | undefined): CostBase {
    let byPeriod = this.#costBases.get(platformId);
    if (!byPeriod) {
      if (this.#costBases.size >= 10_000) this.#costBases.clear();
      this.#costBases.set(platformId, byPeriod = new Map());
    }
    const id = feature === undefined ? period : `${feature}\u0000${period}`;
    let base = byPeriod.get(id);
    if (!base) {
      const day = "0000-00-00";
      const dailyKeys = 3 * keyBytes(
        feature === undefined
          ? keys.usageDailyMetric(platformId, day, "refused")
          : keys.usageFeatureDailyMetric(platformId, feature, day, "refused"),
      );
      const activeKey = keyBytes(
        feature === undefined
          ? keys.usageActive(platformId, period)
          : keys.usageFeatureActive(platformId, feature, period),
      );
      base = {
        group: `${platformId}\u0000${id}`,
        planKey: keyBytes(keys.usagePlansInPeriod(platformId, period)),
        registerKey: keyBytes(
          feature === undefined
            ? keys.usageHllRegister(platformId, day, HLL_REGISTERS)
            : keys.usageFeatureHllRegister(platformId, feature, day, HLL_REGISTERS),
        ),
        once: {
          mutations: 4,
          keyBytes: dailyKeys + activeKey,
          mutationBytes: dailyKeys + activeKey + 4 * U64_BYTES,
        },
      };
      byPeriod.set(id, base);
    }
    return base;
  }
}

interface Day {
  id: string;
  platformId: string;
  /** the metered feature recorded; `undefined`: the main meter */
  feature: string | undefined;
  day: string;
  units: number;
  allowed: number;
  refused: number;
  /** register values this process committed for the day (KV holds at least these) */
  committed: Uint8Array | undefined;
  /** register → rank this commit raises it to */
  raise: Map<number, number>;
}

interface Group {
  platformId: string;
  feature: string | undefined;
  period: string;
  day: Day;
  /** end-users whose first units of the period this commit counts */
  firsts: number;
  /** FNV seeds of this platform and period: the tier cache's 53-bit key of an end-user */
  seeds: [number, number];
}

interface CostBase {
  group: string;
  planKey: number;
  registerKey: number;
  once: CommitCost;
}

/** `keyBytes` of one string part, without building a key. */
function stringBytes(text: string): number {
  let n = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c === 0 ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
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
