/** Opening Deno KV from the configuration: a file (its folder created), `:memory:`, a KV Connect URL, or Deploy's own. */
import { dirname } from "node:path";

export async function openKv(path: string | undefined): Promise<Deno.Kv> {
  if (path && path !== ":memory:" && !/^https?:\/\//.test(path)) {
    await Deno.mkdir(dirname(path), { recursive: true });
  }
  return await Deno.openKv(path);
}
