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

// Shared stand-ins for an empty side: the comparison runs over every node of every review, so it
// must not allocate on the way.
const EMPTY_OBJECT: JsonObject = Object.freeze({});
const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

/** Past this many keys on either side, a node is compared by its smaller side (see Comparer). */
const SMALL_NODE = 32;

/**
 * Compares values under Empty semantics and returns the path (relative to them) of the first
 * difference, or undefined when they are equal. Small nodes are compared in the order of `b` (the
 * new value, which is what the user is looking at), then keys only `a` has.
 *
 * One comparer serves a whole review, because one large value may be compared with many others
 * (a new entry that merges thousands of per-cluster entries is compared with each of them). At a
 * large node it walks the smaller side's keys and finds a key only the larger side holds from a
 * memoised list of the larger side's non-empty keys; so each comparison costs the smaller value,
 * and every node's memo is built once: linear in the review, whatever its shape.
 */
export class Comparer {
  // Memos for large nodes only, created when the first one is met: a typical review has none.
  private sizes: Map<object, number> | undefined;
  private nonEmptyKeys: Map<object, readonly string[]> | undefined;
  private holdsSomething: Map<object, boolean> | undefined;

  constructor(private readonly tick: () => void = () => {}) {}

  firstDifference(a: unknown, b: unknown): PathSegment[] | undefined {
    const reversed: PathSegment[] = [];
    return this.walk(a, b, reversed) ? reversed.reverse() : undefined;
  }

  /** True when a and b differ; the path is pushed innermost first. */
  private walk(a: unknown, b: unknown, path: PathSegment[]): boolean {
    this.tick();
    // Each object's size is read once here and handed on.
    const aSize = isPlainObject(a) ? this.size(a) : -1;
    const bSize = isPlainObject(b) ? this.size(b) : -1;
    const aEmpty = aSize === -1 ? isEmpty(a) : aSize === 0;
    const bEmpty = bSize === -1 ? isEmpty(b) : bSize === 0;
    if (aEmpty && bEmpty) return false;
    // An empty side is compared as the container the other side is, so that `{env: []}` equals
    // `{}` and the path names the first thing that was really added or removed.
    const aObject = isPlainObject(a) ? a : aEmpty ? EMPTY_OBJECT : undefined;
    const bObject = isPlainObject(b) ? b : bEmpty ? EMPTY_OBJECT : undefined;
    if (aObject && bObject) return this.walkObjects(aObject, bObject, Math.max(aSize, 0), Math.max(bSize, 0), path);
    const aArray = Array.isArray(a) ? a : aEmpty ? EMPTY_ARRAY : undefined;
    const bArray = Array.isArray(b) ? b : bEmpty ? EMPTY_ARRAY : undefined;
    if (aArray && bArray) {
      const shared = Math.min(aArray.length, bArray.length);
      for (let i = 0; i < shared; i++) {
        if (this.walk(aArray[i], bArray[i], path)) {
          path.push(i);
          return true;
        }
      }
      if (aArray.length === bArray.length) return false;
      path.push(shared);
      return true;
    }
    return a !== b;
  }

  private walkObjects(a: JsonObject, b: JsonObject, sizeA: number, sizeB: number, path: PathSegment[]): boolean {
    if (sizeA <= SMALL_NODE && sizeB <= SMALL_NODE) {
      for (const key in b) {
        if (this.walk(ownValue(a, key), b[key], path)) return found(path, key);
      }
      for (const key in a) {
        if (Object.hasOwn(b, key)) continue;
        if (this.walk(a[key], undefined, path)) return found(path, key);
      }
      return false;
    }
    const [small, large, smallIsA] = sizeA <= sizeB ? [a, b, true] : [b, a, false];
    for (const key in small) {
      const other = ownValue(large, key);
      if (smallIsA ? this.walk(small[key], other, path) : this.walk(other, small[key], path)) return found(path, key);
    }
    for (const key of this.keysHoldingSomething(large)) {
      if (Object.hasOwn(small, key)) continue;
      const inner = smallIsA ? this.walk(undefined, large[key], path) : this.walk(large[key], undefined, path);
      if (inner) return found(path, key);
    }
    return false;
  }

  /** isEmpty, with object sizes memoised: `for…in` over a large object enumerates all its keys. */
  private isEmpty(value: unknown): boolean {
    return isPlainObject(value) ? this.size(value) === 0 : isEmpty(value);
  }

  /**
   * The number of keys, exact up to SMALL_NODE + 1. Small nodes (nearly all of them) are counted
   * on the spot without allocating; only a large node's size is computed once and remembered.
   */
  private size(object: JsonObject): number {
    const known = this.sizes?.get(object);
    if (known !== undefined) return known;
    let count = 0;
    for (const key in object) {
      if (key !== undefined && ++count > SMALL_NODE) {
        const size = Object.keys(object).length;
        (this.sizes ??= new Map()).set(object, size);
        return size;
      }
    }
    return count;
  }

  /** Keys whose value is not Empty all the way down (so it differs from an absent key). */
  private keysHoldingSomething(object: JsonObject): readonly string[] {
    let keys = this.nonEmptyKeys?.get(object);
    if (!keys) {
      const found: string[] = [];
      for (const key in object) if (this.holds(object[key])) found.push(key);
      (this.nonEmptyKeys ??= new Map()).set(object, (keys = found));
    }
    return keys;
  }

  private holds(value: unknown): boolean {
    this.tick();
    if (this.isEmpty(value)) return false;
    if (typeof value !== "object" || value === null) return true;
    let known = this.holdsSomething?.get(value);
    if (known === undefined) {
      known = Array.isArray(value) ? value.length > 0 : this.keysHoldingSomething(value as JsonObject).length > 0;
      (this.holdsSomething ??= new Map()).set(value, known);
    }
    return known;
  }
}

function found(path: PathSegment[], key: string): true {
  path.push(key);
  return true;
}

/** The first difference between two values, with a comparer of its own (see Comparer). */
export function firstDifference(a: unknown, b: unknown): PathSegment[] | undefined {
  return new Comparer().firstDifference(a, b);
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
