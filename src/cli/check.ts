import { shown } from "../lifecycle/text.js";
import { causesOf, ruleIds } from "../admission/response.js";
import { shapeWarnings } from "../admission/warnings.js";
import { groupOfApiVersion } from "../lifecycle/kinds.js";
import { evaluate, type Decision, type EngineOptions } from "../rules/engine.js";
import { describeObject, loadObjects, pairingKey, type LoadedObject } from "./load.js";

export interface CheckResult {
  readonly object: LoadedObject;
  readonly operation: "CREATE" | "UPDATE";
  readonly decision: Decision;
}

/** Pairs old and new objects and asks the engine about each new one: the webhook's decision, offline. */
export async function runCheck(oldFile: string | undefined, newFile: string, options: EngineOptions): Promise<CheckResult[]> {
  const [oldObjects, newObjects] = await Promise.all([oldFile ? loadObjects(oldFile) : Promise.resolve([]), loadObjects(newFile)]);
  const oldByKey = new Map(oldObjects.map((o) => [pairingKey(o), o]));
  return newObjects.map((object) => {
    const old = oldByKey.get(pairingKey(object));
    const operation = old ? "UPDATE" : "CREATE";
    const decision = evaluate(
      {
        operation,
        group: groupOfApiVersion(object.apiVersion),
        kind: object.kind,
        namespace: object.namespace,
        name: object.name,
        oldObject: old?.object ?? null,
        newObject: object.object,
      },
      options,
    );
    return { object, operation, decision };
  });
}

function warningTexts(decision: Decision): string[] {
  return shapeWarnings([...decision.warnings.map((f) => f.message), ...(decision.notices ?? [])]);
}

/** kubectl-like text: warnings as `Warning: ...`, denials as `<field>: <message>`. */
export function formatText(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const { object, operation, decision } of results) {
    for (const warning of warningTexts(decision)) lines.push(`Warning: ${warning}`);
    const label = `${describeObject(object)} (${operation})`;
    if (decision.failure) {
      lines.push(`${label}: error: rule ${decision.failure.rule} failed: ${shown(decision.failure.error, 200)}`);
    } else if (decision.allowed) {
      lines.push(`${label}: allowed`);
    } else {
      const where = object.namespace ? `namespace ${shown(object.namespace)}, ${operation}` : operation;
      lines.push(`The ${shown(object.kind)} "${shown(object.name)}" is denied (${where}):`);
      for (const cause of causesOf(decision.denials, decision.omittedDenials)) lines.push(`${cause.field}: ${cause.message}`);
    }
  }
  const denied = results.filter((r) => !r.decision.allowed).length;
  lines.push(`${results.length} object${results.length === 1 ? "" : "s"} checked: ${results.length - denied} allowed, ${denied} denied`);
  return `${lines.join("\n")}\n`;
}

export function formatJson(results: readonly CheckResult[]): string {
  const denied = results.filter((r) => !r.decision.allowed).length;
  const output = {
    allowed: denied === 0,
    summary: { checked: results.length, allowed: results.length - denied, denied },
    results: results.map(({ object, operation, decision }) => ({
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.namespace,
      name: object.name,
      operation,
      allowed: decision.allowed,
      rules: ruleIds(decision),
      causes: causesOf(decision.denials, decision.omittedDenials),
      warnings: warningTexts(decision),
      findings: decision.findings.map((f) => ({ rule: f.rule, severity: f.severity, field: f.field, message: f.message })),
      ...(decision.failure ? { error: decision.failure } : {}),
    })),
  };
  return `${JSON.stringify(output, null, 2)}\n`;
}
