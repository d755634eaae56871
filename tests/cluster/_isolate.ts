/**
 * An HTTP isolate stand-in for tests/cluster/isolates_test.ts: what it does depends on its number.
 * 1 throws, 2 exits with 3, 3 wakes the host's webhook loop then drains when asked (exit 0).
 */
import { clusterHost } from "../../lib/cluster/isolates.ts";

const host = clusterHost();
if (!host) throw new Error("not started as an HTTP isolate");
if (host.number === 1) {
  setTimeout(() => {
    throw new Error("boom");
  }, 0);
}
if (host.number === 2) host.exit(3);
if (host.number === 3) {
  host.wake();
  host.onStop(() => setTimeout(() => host.exit(0), 10));
}
