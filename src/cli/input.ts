import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from "yaml";
import { groupOfApiVersion, lifecycleKindOf, LIFECYCLE_KINDS } from "../lifecycle/kinds.js";
import { shown } from "../lifecycle/text.js";
import { isPlainObject, type JsonObject } from "../lifecycle/values.js";

/** A problem with the user's input: printed as is, exit code 2. */
export class InputError extends Error {}

/** One Kubernetes object read from the input, with what is needed to point at its lines. */
export interface InputObject {
  /** The file as the user named it (relative to the working directory), or `-` for stdin. */
  readonly file: string;
  readonly object: JsonObject;
  readonly kind: string;
  readonly apiVersion: string;
  /** "" when the object names none (a file kept in Git usually does not). */
  readonly namespace: string;
  readonly name: string;
  readonly line: number;
  /** The line of a field path (`spec.installations[0].istioOperatorSpec.tag`), or of its nearest parent in the file. */
  lineOf(field: string): number;
}

export interface InputSet {
  readonly lifecycle: InputObject[];
  /** Objects that are not lifecycle managers, for the "skipped" list. */
  readonly skipped: InputObject[];
  /** Files (or stdin) that held no lifecycle manager. */
  readonly emptySources: string[];
  /** Warnings about the input itself: duplicate keys, probable kind typos. */
  readonly notes: string[];
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

/** `--new a.yaml dir/ -`: files, directories (recursively, *.yaml, *.yml, *.json) and stdin. */
async function expand(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && EXTENSIONS.test(entry.name)) files.push(path);
    }
  };
  for (const path of paths) {
    if (path === "-") {
      files.push("-");
      continue;
    }
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${path}: cannot read it${code === "ENOENT" ? " (no such file or directory)" : code ? ` (${code})` : ""}`);
    }
    if (info.isDirectory()) await walk(path);
    else files.push(path);
  }
  return files;
}

async function readSource(file: string, stdin: () => Promise<string>): Promise<string> {
  if (file === "-") return stdin();
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InputError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

export function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

/** Segments of a field path as formatPath writes it: `a.b[0][x/y].c`. */
function segments(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  const pattern = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (const match of field.matchAll(pattern)) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(/^\d+$/.test(match[2]) ? Number(match[2]) : match[2]);
  }
  return out;
}

/** The value node of a map key, the last one when a key is repeated (kubectl reads the last). */
function child(node: YamlNode | null | undefined, segment: string | number): { key?: YamlNode; value: YamlNode } | undefined {
  if (isMap(node)) {
    let found: { key?: YamlNode; value: YamlNode } | undefined;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(key) === String(segment) && pair.value) found = { ...(isScalar(pair.key) || isMap(pair.key) || isSeq(pair.key) ? { key: pair.key as YamlNode } : {}), value: pair.value as YamlNode };
    }
    return found;
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment];
    return item ? { value: item as YamlNode } : undefined;
  }
  return undefined;
}

function lineAt(lines: LineCounter, node: YamlNode | undefined, fallback: number): number {
  const offset = node?.range?.[0];
  return offset === undefined ? fallback : lines.linePos(offset).line;
}

/** Every key repeated within one mapping, with its line: kubectl keeps the last, and so does this. */
function duplicateKeys(node: YamlNode | null | undefined, lines: LineCounter, out: { key: string; line: number }[]): void {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      if (seen.has(key)) out.push({ key, line: lineAt(lines, pair.key as YamlNode, 1) });
      seen.add(key);
      duplicateKeys(pair.value as YamlNode, lines, out);
    }
  } else if (isSeq(node)) for (const item of node.items) duplicateKeys(item as YamlNode, lines, out);
}

const LIFECYCLE_NAMES: readonly string[] = LIFECYCLE_KINDS.map((k) => k.kind);

/** `IstioLifecycleManagers`, `istiolifecyclemanager`, `GatewayLifeCycleManager`: almost a lifecycle kind. */
function probableTypo(kind: string): string | undefined {
  const folded = kind.toLowerCase().replace(/[^a-z]/g, "");
  return LIFECYCLE_NAMES.find((name) => {
    if (name === kind) return false;
    const target = name.toLowerCase();
    return folded === target || folded === `${target}s` || distance(folded, target) <= 2;
  });
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Reads every object of every source. YAML (multi-document, or a `kind: List` as `kubectl get -o
 * yaml` prints several objects) or JSON, which is YAML.
 */
export async function loadInput(paths: readonly string[], options: { stdin?: () => Promise<string>; cwd?: string } = {}): Promise<InputSet> {
  const files = await expand(paths);
  if (files.length === 0) throw new InputError(`${paths.join(", ")}: no *.yaml, *.yml or *.json file found`);
  const stdin = options.stdin ?? readStdin;
  const set: InputSet = { lifecycle: [], skipped: [], emptySources: [], notes: [] };
  for (const path of files) {
    const file = path === "-" ? "-" : relative(options.cwd ?? process.cwd(), path) || path;
    const text = await readSource(path, stdin);
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
    if (!Array.isArray(docs)) throw new InputError(`${file}: cannot parse YAML/JSON`);
    let found = 0;
    for (const [index, doc] of docs.entries()) {
      const error = doc.errors[0];
      if (error) {
        const at = error.linePos?.[0];
        throw new InputError(`${file}${at ? `:${at.line}:${at.col}` : ""}: cannot parse YAML/JSON: ${error.message.split("\n")[0]}`);
      }
      const duplicates: { key: string; line: number }[] = [];
      duplicateKeys(doc.contents as YamlNode, lines, duplicates);
      for (const d of duplicates) set.notes.push(`${file}:${d.line}: duplicate key ${JSON.stringify(shown(d.key))}: kubectl reads the last one, and so does this check`);
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        throw new InputError(`${file}: document ${index + 1}: ${(error as Error).message}`);
      }
      if (value === null || value === undefined) continue;
      const roots: { value: unknown; node: YamlNode | undefined }[] = [];
      if (isPlainObject(value) && typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
        const itemsNode = child(doc.contents as YamlNode, "items")?.value;
        value.items.forEach((item, i) => roots.push({ value: item, node: isSeq(itemsNode) ? (itemsNode.items[i] as YamlNode) : undefined }));
      } else roots.push({ value, node: doc.contents as YamlNode });
      for (const root of roots) {
        if (!isPlainObject(root.value)) throw new InputError(`${file}:${lineAt(lines, root.node, 1)}: not a Kubernetes object`);
        const object = root.value;
        const metadata = isPlainObject(object.metadata) ? object.metadata : {};
        const line = lineAt(lines, root.node, 1);
        const input: InputObject = {
          file,
          object,
          kind: typeof object.kind === "string" ? object.kind : "",
          apiVersion: typeof object.apiVersion === "string" ? object.apiVersion : "",
          namespace: typeof metadata.namespace === "string" ? metadata.namespace : "",
          name: typeof metadata.name === "string" ? metadata.name : "",
          line,
          lineOf: (field) => {
            let node: YamlNode | undefined = root.node;
            let at = line;
            for (const segment of segments(field)) {
              const next = child(node, segment);
              if (!next) break;
              at = lineAt(lines, next.key ?? next.value, at);
              node = next.value;
            }
            return at;
          },
        };
        if (lifecycleKindOf(groupOfApiVersion(input.apiVersion), input.kind)) {
          if (!input.name) throw new InputError(`${file}:${line}: ${input.kind} has no metadata.name`);
          set.lifecycle.push(input);
          found++;
        } else {
          const typo = probableTypo(input.kind);
          if (typo) set.notes.push(`${file}:${line}: kind ${JSON.stringify(shown(input.kind))} is probably a typo of ${typo}; it was not checked`);
          else if (LIFECYCLE_NAMES.includes(input.kind)) set.notes.push(`${file}:${line}: ${input.kind} with apiVersion ${JSON.stringify(shown(input.apiVersion))} is not admin.gloo.solo.io; it was not checked`);
          set.skipped.push(input);
        }
      }
    }
    if (found === 0) set.emptySources.push(file === "-" ? "stdin" : file);
  }
  return set;
}

/** `IstioLifecycleManager gloo-mesh/istiod`, escaped. */
export function describeObject(o: Pick<InputObject, "kind" | "namespace" | "name">): string {
  return `${shown(o.kind)} ${o.namespace ? `${shown(o.namespace)}/` : ""}${shown(o.name)}`;
}
