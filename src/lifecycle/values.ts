/**
 * Value comparison with the spec's notion of "Empty": absent, null, {} and [] are the same value.
 * Object key order never matters; array order does.
 */

export type JsonObject = { [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

/**
 * Formats a path the way Kubernetes field errors do: `a.b[0].c`, with keys that are not plain
 * identifiers (annotations, dotted Helm keys) in brackets: `values[sidecar.istio.io/inject]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (SIMPLE_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${segment}]`;
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
      const inner = firstDifference(aObject[key], bObject[key]);
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

/** C0 and C1 control characters: the API server drops a warning that contains one. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

/** A short, single-line rendering of a value for messages. */
export function describeValue(value: unknown, maxLength = 60): string {
  if (value === undefined || value === null) return "(unset)";
  let text: string;
  if (typeof value === "string") text = value === "" ? '""' : value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = text.replace(CONTROL_CHARACTERS, " ");
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
