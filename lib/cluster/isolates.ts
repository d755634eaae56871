/**
 * WORKERS > 1: one process, N HTTP isolates of `main.ts` and the isolate that started them (host.ts),
 * which owns the meter and the founders' webhook loop. The isolates listen on one port with
 * `reusePort` (the kernel spreads connections) and count through the host's meter
 * (lib/usage/remote_meter.ts); everything else they read and write in KV themselves, as separate
 * processes would.
 *
 * The host starts its isolates through `isolateGroup` (each one with `spawnIsolate`), and
 * `supervise` keeps them up like processes; inside, `clusterHost()` is an isolate's side of the
 * channel. Besides counts, the channel carries drains, wake-ups of the webhook loop, and the cache
 * entries one isolate drops for the others (`Forget`).
 */
import { type MeterChannel, serveMeter } from "../usage/remote_meter.ts";
import type { Meter } from "../usage/meter.ts";
import type { WorkerProcess } from "./supervise.ts";

/** Worker names are `dream-api-http-<n>`: how an isolate knows it is one, and which. */
const NAME_PREFIX = "dream-api-http-";

/**
 * A cache entry an isolate dropped because it changed what the entry holds (a tier change, a key
 * rotation, an end-user's subscription): its siblings drop theirs too, so the change is seen at
 * once by the whole process, not after CACHE_TTL_MS as by other processes.
 */
export type Forget =
  | { cache: "tenants"; platformId: string }
  | { cache: "endUserPlans"; platformId: string; userId: string };

/**
 * A forget travels with an id each way: an isolate's to the host, which tells every sibling; each
 * answers `cluster.forgotten` once it dropped the entry, and the host answers the first isolate
 * once all have.
 */
type ForgetMessages =
  | { t: "cluster.forget"; id: number; forget: Forget }
  | { t: "cluster.forgotten"; id: number };
type HostMessage = { t: "cluster.stop"; signal: Deno.Signal } | ForgetMessages;
type IsolateMessage = { t: "cluster.exit"; code: number } | { t: "cluster.wake" } | ForgetMessages;

/** An HTTP isolate's side of the channel to its host. */
export interface ClusterHost {
  /** The channel the meter's calls travel on. */
  channel: MeterChannel;
  /** 1, 2, … in start order (a replacement takes the next). */
  number: number;
  /** Calls `stop` once the host asks this isolate to drain (at once if it already has). */
  onStop(stop: (signal: Deno.Signal) => void): void;
  /** Whether the host has asked this isolate to stop (it may ask while the isolate starts). */
  readonly stopAsked: boolean;
  /** Wakes the host's founders' webhook loop (this isolate just queued an event). */
  wake(): void;
  /** Tells the sibling isolates to drop a cache entry this one dropped; resolves once all have. */
  share(forget: Forget): Promise<void>;
  /** Calls `apply` with each entry a sibling dropped (what it drops then is not shared again). */
  onShared(apply: (forget: Forget) => unknown): void;
  /** Tells the host this isolate ends with `code`, then ends it. */
  exit(code: number): never;
}

/** This isolate's host when it is one of host.ts's HTTP isolates; `null` in a process of its own. */
export function clusterHost(): ClusterHost | null {
  if (!("WorkerGlobalScope" in globalThis)) return null;
  const scope = globalThis as unknown as MeterChannel & { name: string };
  if (!scope.name.startsWith(NAME_PREFIX)) return null;
  const post = (message: IsolateMessage) => scope.postMessage(message);
  // Listening from the first moment: a stop that comes while main.ts still starts is kept for it.
  let asked: Deno.Signal | undefined;
  let stopper: ((signal: Deno.Signal) => void) | undefined;
  let applier: ((forget: Forget) => unknown) | undefined;
  let applying = false;
  const shared = new Map<number, () => void>();
  let nextShare = 1;
  scope.addEventListener("message", (event) => {
    const data = event.data as HostMessage | undefined;
    if (data?.t === "cluster.forget") {
      applying = true;
      try {
        applier?.(data.forget);
      } finally {
        applying = false;
      }
      post({ t: "cluster.forgotten", id: data.id });
      return;
    }
    if (data?.t === "cluster.forgotten") {
      shared.get(data.id)?.();
      shared.delete(data.id);
      return;
    }
    if (data?.t !== "cluster.stop") return;
    asked ??= data.signal;
    stopper?.(data.signal);
  });
  return {
    channel: scope,
    number: Number(scope.name.slice(NAME_PREFIX.length)),
    onStop(stop) {
      stopper = stop;
      if (asked) stop(asked);
    },
    get stopAsked() {
      return asked !== undefined;
    },
    wake: () => post({ t: "cluster.wake" }),
    share(forget) {
      // A drop applied because a sibling shared it is not shared back.
      if (applying) return Promise.resolve();
      const id = nextShare++;
      post({ t: "cluster.forget", id, forget });
      return new Promise((resolve) => shared.set(id, resolve));
    },
    onShared(apply) {
      applier = apply;
    },
    exit(code) {
      post({ t: "cluster.exit", code });
      // In a worker, Deno.exit ends this isolate only.
      Deno.exit(code);
    },
  };
}

/**
 * Starts HTTP isolate number `number` of `main` and answers its meter calls with `meter`; the
 * returned handle is what `supervise` needs: its status settles when the isolate exits (or throws),
 * and `kill` asks it to drain.
 */
export function spawnIsolate(options: {
  main: URL;
  number: number;
  meter: Meter;
  wake: () => void;
  /**
   * Called with each cache entry this isolate dropped, for its siblings (`tell` them); the isolate
   * is answered once it resolves. Without it, at once.
   */
  share?: (forget: Forget) => Promise<void>;
}): IsolateProcess {
  const worker = new Worker(options.main, {
    type: "module",
    name: `${NAME_PREFIX}${options.number}`,
  });
  serveMeter(worker, options.meter);
  let settle!: (status: Awaited<WorkerProcess["status"]>) => void;
  const status = new Promise<Awaited<WorkerProcess["status"]>>((resolve) => settle = resolve);
  /** this host's forgets told to the isolate, by id, until it answers (or ends) */
  const told = new Map<number, () => void>();
  let nextTell = 1;
  const end = (code: number) => {
    settle({ success: code === 0, code, signal: null });
    worker.terminate();
    for (const resolve of told.values()) resolve();
    told.clear();
  };
  worker.addEventListener("message", (event) => {
    const data = event.data as IsolateMessage | undefined;
    if (data?.t === "cluster.wake") options.wake();
    else if (data?.t === "cluster.forget") {
      const { id } = data;
      void (options.share?.(data.forget) ?? Promise.resolve()).then(() =>
        worker.postMessage({ t: "cluster.forgotten", id } satisfies HostMessage)
      );
    } else if (data?.t === "cluster.forgotten") {
      told.get(data.id)?.();
      told.delete(data.id);
    } else if (data?.t === "cluster.exit") end(data.code);
  });
  worker.addEventListener("error", (event) => {
    // An uncaught error ends this isolate, not the process: supervise replaces it.
    event.preventDefault();
    console.error(`dream-api HTTP isolate ${options.number} failed: ${event.message}`);
    end(1);
  });
  return {
    pid: Deno.pid,
    isolate: options.number,
    status,
    kill(signal = "SIGTERM") {
      worker.postMessage({ t: "cluster.stop", signal } satisfies HostMessage);
    },
    tell(forget) {
      const id = nextTell++;
      worker.postMessage({ t: "cluster.forget", id, forget } satisfies HostMessage);
      return new Promise((resolve) => told.set(id, resolve));
    },
  };
}

/** An HTTP isolate as its host holds it: a worker for `supervise`, and a sibling to tell. */
export interface IsolateProcess extends WorkerProcess {
  /** Makes this isolate drop a cache entry a sibling dropped; resolves once it has (or ended). */
  tell(forget: Forget): Promise<void>;
}

/**
 * host.ts's isolates: `spawn` starts the next one (numbered 1, 2, …), answering its counts with
 * `meter`; a cache entry one drops is told to every other live one.
 */
export function isolateGroup(options: {
  main: URL;
  meter: Meter;
  wake: () => void;
}): { spawn(): IsolateProcess } {
  const live = new Set<IsolateProcess>();
  let spawned = 0;
  return {
    spawn() {
      const isolate: IsolateProcess = spawnIsolate({
        ...options,
        number: ++spawned,
        share: async (forget) => {
          await Promise.all(
            [...live].filter((other) => other !== isolate).map((other) => other.tell(forget)),
          );
        },
      });
      live.add(isolate);
      void isolate.status.then(() => live.delete(isolate));
      return isolate;
    },
  };
}
