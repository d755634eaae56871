/**
 * Runs first in every island bundle (lib/ui/build.ts imports it before the island itself).
 * `islands/_client/` holds the islands' browser-only helpers; the build never takes it for an island.
 *
 * zod compiles object parsers with `new Function` when it may, and finds out by trying one; under
 * our Content-Security-Policy (no `unsafe-eval`) that caught attempt is still reported as a
 * `securitypolicyviolation`. `jitless` makes zod interpret instead, without probing: the browser
 * validates a few tier rows, where compiling gains nothing. zod keeps its settings on this global
 * (shared by every copy of zod on a page), so no zod import is needed here and the order in which
 * the bundler evaluates zod's own module does not matter, only that this runs before any schema
 * is built.
 */
const holder = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
(holder.__zod_globalConfig ??= {}).jitless = true;
