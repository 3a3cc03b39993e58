import { shown } from "../lifecycle/text.js";
import { readFile } from "node:fs/promises";
import { loadAll, YAMLException } from "js-yaml";
import { isPlainObject, type JsonObject } from "../lifecycle/values.js";

/** A problem with the user's input: printed as is, exit code 2. */
export class InputError extends Error {}

export interface LoadedObject {
  readonly file: string;
  readonly object: JsonObject;
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
}

/** Objects are paired by kind, namespace and name. */
export function pairingKey(o: Pick<LoadedObject, "kind" | "namespace" | "name">): string {
  return `${o.kind}\u0000${o.namespace}\u0000${o.name}`;
}

export function describeObject(o: Pick<LoadedObject, "kind" | "namespace" | "name">): string {
  return `${shown(o.kind)} ${o.namespace ? `${shown(o.namespace)}/` : ""}${shown(o.name)}`;
}

function flatten(doc: unknown, file: string, index: number): JsonObject[] {
  if (doc === null || doc === undefined) return [];
  if (!isPlainObject(doc)) throw new InputError(`${file}: document ${index + 1} is not a Kubernetes object`);
  // `kubectl get -o yaml` of several objects writes a List.
  if (typeof doc.kind === "string" && doc.kind.endsWith("List") && Array.isArray(doc.items)) {
    return doc.items.flatMap((item, i) => flatten(item, `${file} (items[${i}])`, index));
  }
  return [doc];
}

/** Reads a YAML (multi-document) or JSON file of Kubernetes objects. */
export async function loadObjects(file: string): Promise<LoadedObject[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the file${code === "ENOENT" ? " (no such file)" : code ? ` (${code})` : ""}`);
  }
  let docs: unknown[];
  try {
    // JSON is YAML, so one parser serves both; its line numbers are right for either.
    docs = loadAll(text);
  } catch (error) {
    if (error instanceof YAMLException) {
      const line = error.mark ? `:${error.mark.line + 1}:${error.mark.column + 1}` : "";
      throw new InputError(`${file}${line}: cannot parse YAML/JSON: ${error.reason}`);
    }
    throw error;
  }
  const objects = docs.flatMap((doc, i) => flatten(doc, file, i));
  const seen = new Set<string>();
  return objects.map((object, i) => {
    const metadata = isPlainObject(object.metadata) ? object.metadata : {};
    const loaded: LoadedObject = {
      file,
      object,
      kind: typeof object.kind === "string" ? object.kind : "",
      apiVersion: typeof object.apiVersion === "string" ? object.apiVersion : "",
      namespace: typeof metadata.namespace === "string" ? metadata.namespace : "",
      name: typeof metadata.name === "string" ? metadata.name : "",
    };
    if (!loaded.kind || !loaded.name) throw new InputError(`${file}: object ${i + 1} has no kind or metadata.name`);
    const key = pairingKey(loaded);
    if (seen.has(key)) throw new InputError(`${file}: ${describeObject(loaded)} appears twice`);
    seen.add(key);
    return loaded;
  });
}
