/**
 * The client (client/dream_api.ts) depends on nothing, so it cannot import the server's zod
 * schemas and restates its answer types by hand. These checks hold the copies to the schemas: a
 * field added, removed or retyped on either side fails the type check of this file, hence `deno
 * test` and `deno task check`.
 */
import assert from "node:assert/strict";
import type { z } from "zod";
import type {
  CheckoutResult,
  CheckResult,
  ErrorCode as ClientErrorCode,
  FeatureNotIncludedError,
  Period,
  PlanSource,
  PortalResult,
  SwitchState,
  Usage,
  UsageResult,
} from "../../client/dream_api.ts";
import type { ErrorCode } from "../../lib/errors.ts";
import type {
  CheckoutResponseSchema,
  CheckResponseSchema,
  FeatureNotIncludedDetailsSchema,
  PeriodSchema,
  PlanSourceSchema,
  PortalResponseSchema,
  SwitchStateSchema,
  UsageResponseSchema,
  UsageSchema,
} from "../../lib/schemas/responses.ts";

/** `true` only when `A` and `B` are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
type Shape<T> = { [K in keyof T]: T[K] };
/** An error class's fields as plain data (they are `readonly` on the class). */
type Fields<T> = { -readonly [K in keyof T]: T[K] };

Deno.test("the client's answer types are the response schemas' types", () => {
  const same: [
    Equal<Shape<Usage>, Shape<z.infer<typeof UsageSchema>>>,
    Equal<Shape<Period>, Shape<z.infer<typeof PeriodSchema>>>,
    Equal<PlanSource, z.infer<typeof PlanSourceSchema>>,
    Equal<
      Shape<Omit<UsageResult, "rateLimit">>,
      Shape<Omit<z.infer<typeof UsageResponseSchema>, "success">>
    >,
    Equal<Shape<CheckoutResult>, Shape<z.infer<typeof CheckoutResponseSchema>>>,
    Equal<Shape<PortalResult>, Shape<z.infer<typeof PortalResponseSchema>>>,
    Equal<Exclude<ClientErrorCode, "network_error" | `http_${number}`>, ErrorCode>,
    Equal<Shape<CheckResult>, Shape<Omit<z.infer<typeof CheckResponseSchema>, "success">>>,
    Equal<Shape<SwitchState>, Shape<z.infer<typeof SwitchStateSchema>>>,
    Equal<
      Fields<Pick<FeatureNotIncludedError, "feature" | "plan" | "upgradeTo">>,
      Shape<z.infer<typeof FeatureNotIncludedDetailsSchema>>
    >,
  ] = [true, true, true, true, true, true, true, true, true, true];
  assert.ok(same.every(Boolean));
});
