/**
 * The operators' command: `deno task admin <command>`.
 *
 *   platform create --name NAME [--test]    → {"platformId","apiKey"}
 *   platform list
 *   tiers get PLATFORM_ID
 *   tiers set PLATFORM_ID FILE.json         (an array of tiers, or {"tiers":[…]})
 *   key rotate PLATFORM_ID [--grace SECONDS] → {"platformId","apiKey"}
 *   analytics prune [--keep-days DAYS]      → {"before","platforms","deleted"} (daily analytics
 *                                             older than DAYS, default 400; run it daily)
 *
 * It uses the same KV (KV_PATH) and the same repositories as the server.
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_KEEP_DAYS,
  pruneDailyAnalytics,
  retentionCutoff,
} from "../lib/analytics/retention.ts";
import { ConfigError, readConfig } from "../fresh.config.ts";
import { NotFoundError } from "../lib/kv/errors.ts";
import { createPlatform, listPlatforms, rotateApiKey } from "../lib/kv/platforms.ts";
import { openKv } from "../lib/kv/open.ts";
import { getTiers, setTiers } from "../lib/kv/tiers.ts";
import { issuesOf } from "../lib/errors.ts";
import { z } from "zod";

const USAGE = `usage: deno task admin <command>
  platform create --name NAME [--test]
  platform list
  tiers get PLATFORM_ID
  tiers set PLATFORM_ID FILE.json
  key rotate PLATFORM_ID [--grace SECONDS]
  analytics prune [--keep-days DAYS]`;

class UsageError extends Error {}

/** Runs one admin command against `kv`; returns what to print as JSON. */
export async function runAdmin(
  kv: Deno.Kv,
  args: string[],
  now: () => Date = () => new Date(),
): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      test: { type: "boolean", default: false },
      grace: { type: "string", default: "0" },
      "keep-days": { type: "string", default: String(DEFAULT_KEEP_DAYS) },
    },
  });
  const [noun, verb, target, file] = positionals;
  switch (`${noun} ${verb}`) {
    case "platform create": {
      const name = values.name?.trim();
      if (!name) throw new UsageError("platform create needs --name NAME");
      const { platform, apiKey } = await createPlatform(kv, {
        name,
        mode: values.test ? "test" : "live",
      });
      return { platformId: platform.id, apiKey };
    }
    case "platform list":
      return (await listPlatforms(kv)).map(({ id, name, ownerId, keyPrefix, createdAt }) => ({
        platformId: id,
        name,
        ownerId,
        keyPrefix,
        createdAt,
      }));
    case "tiers get": {
      if (!target) throw new UsageError("tiers get needs PLATFORM_ID");
      const config = await getTiers(kv, target);
      if (!config) throw new NotFoundError(`no platform '${target}'`);
      return config;
    }
    case "tiers set": {
      if (!target || !file) throw new UsageError("tiers set needs PLATFORM_ID FILE.json");
      let json: unknown;
      try {
        json = JSON.parse(await Deno.readTextFile(file));
      } catch (error) {
        throw new UsageError(`cannot read tiers from ${file}: ${(error as Error).message}`);
      }
      const tiers = Array.isArray(json) ? json : (json as { tiers?: unknown })?.tiers;
      return await setTiers(kv, target, tiers);
    }
    case "key rotate": {
      if (!target) throw new UsageError("key rotate needs PLATFORM_ID");
      const grace = z.coerce.number().int().min(0).max(86_400).safeParse(values.grace);
      if (!grace.success) throw new UsageError("--grace must be whole seconds from 0 to 86400");
      const { apiKey } = await rotateApiKey(kv, target, { graceSeconds: grace.data });
      return { platformId: target, apiKey };
    }
    case "analytics prune": {
      const keep = z.coerce.number().int().min(1).max(36_500).safeParse(values["keep-days"]);
      if (!keep.success) throw new UsageError("--keep-days must be whole days from 1 to 36500");
      const before = retentionCutoff(now(), keep.data);
      return { before, ...await pruneDailyAnalytics(kv, before) };
    }
    default:
      throw new UsageError(USAGE);
  }
}

if (import.meta.main) {
  let code = 0;
  let kv: Deno.Kv | undefined;
  try {
    const config = readConfig();
    kv = await openKv(config.kvPath);
    console.log(JSON.stringify(await runAdmin(kv, Deno.args), null, 2));
  } catch (error) {
    code = error instanceof UsageError ? 2 : 1;
    if (error instanceof z.ZodError) {
      console.error(
        `invalid tiers:\n${
          issuesOf(error).map((i) => `  ${i.path || "(tiers)"}: ${i.message}`).join("\n")
        }`,
      );
    } else if (
      error instanceof UsageError || error instanceof NotFoundError || error instanceof ConfigError
    ) {
      console.error(error.message);
    } else {
      throw error;
    }
  } finally {
    kv?.close();
  }
  Deno.exit(code);
}
