/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` (and the query string of GET and
 * DELETE) with bracket notation, as stripe-node writes it: `metadata[tier]=pro`,
 * `line_items[0][price]=price_1`, `expand[]=customer` (both `[]` and `[0]` make arrays).
 */
import { StripeApiError } from "./errors.ts";

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/**
 * Parses a form body or query string into nested objects and arrays.
 * @example parseForm("line_items[0][price]=price_1&expand[]=customer")
 * // → { line_items: [{ price: "price_1" }], expand: ["customer"] }
 */
export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const path = splitKey(name);
    let node: FormObject = root;
    for (let i = 0; i < path.length; i++) {
      // `[]` appends: the next free index of the object that becomes an array at the end.
      const key = path[i] === "" ? String(Object.keys(node).length) : path[i];
      if (i === path.length - 1) {
        node[key] = value;
      } else {
        const next = node[key];
        if (typeof next !== "object" || Array.isArray(next)) node[key] = {};
        node = node[key] as FormObject;
      }
    }
  }
  return arraysFromIndexes(root) as FormObject;
}

/** `a[b][0][]` → `["a", "b", "0", ""]`; a name without brackets is one segment. */
function splitKey(name: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
  if (!match) return [name];
  const rest = [...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]);
  return [match[1], ...rest];
}

/** Objects whose keys are all 0, 1, 2… become arrays (Stripe's indexed array format). */
function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  for (const key of keys) value[key] = arraysFromIndexes(value[key]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.map(Number).sort((a, b) => a - b).map((i) => value[String(i)]);
  }
  return value;
}

// Readers for the parameters of one request. Each names the parameter in its error, as Stripe does.

/** The string at `name` (`"a.b"` reaches `a[b]`), or undefined. */
export function str(params: FormObject, name: string): string | undefined {
  const value = at(params, name);
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(name, `Invalid string: ${JSON.stringify(value)}`);
  return value;
}

/** Like `str`, but answers Stripe's 400 `parameter_missing` when absent or empty. */
export function required(params: FormObject, name: string): string {
  const value = str(params, name);
  if (!value) throw StripeApiError.missingParam(bracketed(name));
  return value;
}

export function int(params: FormObject, name: string): number | undefined {
  const value = str(params, name);
  if (value === undefined || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw invalid(name, `Invalid integer: ${value}`);
  return Number(value);
}

export function bool(params: FormObject, name: string): boolean | undefined {
  const value = str(params, name);
  if (value === undefined || value === "") return undefined;
  if (value !== "true" && value !== "false") throw invalid(name, `Invalid boolean: ${value}`);
  return value === "true";
}

/** A list parameter: `x[]=a&x[]=b`, `x[0]=a`, or a single `x=a`. */
export function strings(params: FormObject, name: string): string[] | undefined {
  const value = at(params, name);
  if (value === undefined || value === "") return value === "" ? [] : undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === "string")) throw invalid(name, "Invalid array");
  return list as string[];
}

/** Objects in a list parameter, e.g. `line_items[0][price]`. */
export function objects(params: FormObject, name: string): FormObject[] | undefined {
  const value = at(params, name);
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === "object" && !Array.isArray(v))) {
    throw invalid(name, "Invalid array");
  }
  return list as FormObject[];
}

/**
 * Applies a `metadata` parameter to `current` the way Stripe does: keys merge, a key set to ""
 * is removed, and `metadata=` (empty) clears everything.
 */
export function metadata(
  params: FormObject,
  current: Record<string, string> = {},
  name = "metadata",
): Record<string, string> {
  const value = at(params, name);
  if (value === undefined) return current;
  if (value === "") return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(name, "Invalid hash");
  const next = { ...current };
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${name}.${key}`, "Invalid string");
    if (v === "") delete next[key];
    else next[key] = v;
  }
  return next;
}

/** An http(s) URL parameter; `require` answers `parameter_missing` when absent. */
export function httpUrl(params: FormObject, name: string, require = false): string | undefined {
  const value = require ? required(params, name) : str(params, name);
  if (value === undefined || value === "") return undefined;
  // Stripe leaves the {CHECKOUT_SESSION_ID} template in place; it must still parse as a URL.
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw invalid(name, "Not a valid URL");
  }
  return value;
}

function at(params: FormObject, name: string): FormValue | undefined {
  let node: FormValue | undefined = params;
  for (const part of name.split(".")) {
    if (node === undefined || typeof node === "string") return undefined;
    node = Array.isArray(node) ? node[Number(part)] : node[part];
  }
  return node;
}

/** `"line_items.0.price"` → `"line_items[0][price]"`, the way Stripe names a nested param. */
export function bracketed(name: string): string {
  const [head, ...rest] = name.split(".");
  return head + rest.map((p) => `[${p}]`).join("");
}

function invalid(name: string, message: string) {
  return StripeApiError.invalid(message, bracketed(name));
}
