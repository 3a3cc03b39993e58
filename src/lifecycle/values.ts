import { shown } from "./text.js";

/**
 * Value comparison with the spec's notion of "Empty": absent, null, {} and [] are the same value.
 * Object key order never matters; array order does.
 */

export type JsonObject = { [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A key's own value. Keys come from the object (`constructor`, `__proto__` are legal JSON keys in
 * free-form parts), so a lookup must never fall through to Object.prototype.
 */
export function ownValue(object: Readonly<Record<string | number, unknown>>, key: string | number): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") {
    // Parsed JSON has no inherited enumerable keys: the first own key decides, without Object.keys.
    for (const _key in value) return false;
    return true;
  }
  return false;
}

/** A path segment: an object key or an array index. */
export type PathSegment = string | number;

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
/** Keys are untrusted too: a long one is cut (in brackets) like any other value. */
const MAX_PLAIN_SEGMENT = 64;

/**
 * Formats a path the way Kubernetes field errors do: `a.b[0].c`, with keys that are not plain
 * identifiers (annotations, dotted Helm keys) in brackets: `values[sidecar.istio.io/inject]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (segment.length <= MAX_PLAIN_SEGMENT && SIMPLE_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${shown(segment)}]`;
  }
  return out;
}

/**
 * Returns the path (relative to the compared values) of the first difference between `a` and
 * `b`, or undefined when they are equal under Empty semantics. Keys are visited in the order of
 * `b` (the new value, which is what the user is looking at), then keys only `a` has.
 */
// Shared stand-ins for an empty side: the comparison runs over every node of every review, so it
// must not allocate on the way.
const EMPTY_OBJECT: JsonObject = Object.freeze({});
const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

export function firstDifference(a: unknown, b: unknown): PathSegment[] | undefined {
  const aEmpty = isEmpty(a);
  const bEmpty = isEmpty(b);
  if (aEmpty && bEmpty) return undefined;
  // An empty side is compared as the container the other side is, so that `{env: []}` equals
  // `{}` and the path names the first thing that was really added or removed.
  const aObject = isPlainObject(a) ? a : aEmpty ? EMPTY_OBJECT : undefined;
  const bObject = isPlainObject(b) ? b : bEmpty ? EMPTY_OBJECT : undefined;
  if (aObject && bObject) {
    for (const key in bObject) {
      const inner = firstDifference(ownValue(aObject, key), bObject[key]);
      if (inner) return [key, ...inner];
    }
    for (const key in aObject) {
      if (Object.hasOwn(bObject, key)) continue;
      const inner = firstDifference(aObject[key], undefined);
      if (inner) return [key, ...inner];
    }
    return undefined;
  }
  const aArray = Array.isArray(a) ? a : aEmpty ? EMPTY_ARRAY : undefined;
  const bArray = Array.isArray(b) ? b : bEmpty ? EMPTY_ARRAY : undefined;
  if (aArray && bArray) {
    const shared = Math.min(aArray.length, bArray.length);
    for (let i = 0; i < shared; i++) {
      const inner = firstDifference(aArray[i], bArray[i]);
      if (inner) return [i, ...inner];
    }
    return aArray.length === bArray.length ? undefined : [shared];
  }
  return a === b ? undefined : [];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return firstDifference(a, b) === undefined;
}

/** A short, single-line, escaped rendering of a value for messages. */
export function describeValue(value: unknown, maxLength = 60): string {
  if (value === undefined || value === null) return "(unset)";
  if (typeof value === "string") return value === "" ? '""' : shown(value, maxLength);
  if (typeof value !== "object") return shown(String(value), maxLength);
  return shown(jsonHead(value, maxLength), maxLength);
}

/**
 * The start of a value's JSON, without serialising all of it: a values subtree can be megabytes
 * and only the first few dozen characters are shown.
 */
function jsonHead(value: unknown, budget: number): string {
  let out = "";
  const visit = (node: unknown): void => {
    if (out.length > budget) return;
    if (Array.isArray(node)) {
      out += "[";
      node.some((item, i) => {
        if (i > 0) out += ",";
        visit(item);
        return out.length > budget;
      });
      out += "]";
    } else if (isPlainObject(node)) {
      out += "{";
      let first = true;
      for (const key in node) {
        if (!first) out += ",";
        first = false;
        out += `${JSON.stringify(key.length > budget ? key.slice(0, budget) : key)}:`;
        visit(node[key]);
        if (out.length > budget) break;
      }
      out += "}";
    } else if (typeof node === "string") out += JSON.stringify(node.length > budget ? node.slice(0, budget) : node);
    else out += String(JSON.stringify(node) ?? node);
  };
  visit(value);
  return out;
}
