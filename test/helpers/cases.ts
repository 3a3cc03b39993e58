import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load as loadYaml } from "js-yaml";

/** One table-driven rule case: old/new installations and the exact findings expected. */
export interface RuleCase {
  readonly name: string;
  /** allow: the rule stays quiet; trigger: it reports; skip: skipUpgradeValidation bypasses it. */
  readonly type: "allow" | "trigger" | "skip";
  readonly kind?: "ILM" | "GLM";
  readonly operation?: "CREATE" | "UPDATE" | "DELETE";
  /** `spec.installations` of the old object; absent means CREATE. Or a whole object via oldObject. */
  readonly old?: unknown;
  readonly new?: unknown;
  readonly oldObject?: unknown;
  readonly newObject?: unknown;
  readonly user?: { username?: string; groups?: string[] };
  readonly skipPolicy?: { mode?: "honor" | "ignore"; users?: string[]; groups?: string[] };
  /** The DELETION_PROTECTION setting (LG701); on when absent. */
  readonly deletionProtection?: boolean;
  /** RULE_SEVERITY, as `LG304=deny,...`. */
  readonly severity?: string;
  /** Other objects in the cluster (LG5xx): the view is synced unless `synced: false`. */
  readonly cluster?: {
    readonly synced?: boolean;
    readonly ilms?: readonly ClusterCaseObject[];
    readonly glms?: readonly ClusterCaseObject[];
  };
  readonly expect: {
    readonly allowed: boolean;
    /** Exact list of `RULE field` strings, order-insensitive. */
    readonly findings: readonly string[];
    /** Substrings each message of the file's rule must contain (all of them, in some finding). */
    readonly messages?: readonly string[];
    /** Substrings of the non-finding warnings (e.g. cluster cache not synced); exact count. */
    readonly notices?: readonly string[];
  };
}

export interface ClusterCaseObject {
  readonly name: string;
  readonly namespace?: string;
  readonly installations: unknown;
}

export interface RuleCaseFile {
  readonly file: string;
  readonly rule: string;
  readonly cases: readonly RuleCase[];
}

export const CASES_DIR = join(import.meta.dirname, "..", "rules", "cases");

export function loadCaseFiles(): RuleCaseFile[] {
  return readdirSync(CASES_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const doc = loadYaml(readFileSync(join(CASES_DIR, file), "utf8")) as { rule: string; cases: RuleCase[] };
      return { file, rule: doc.rule, cases: doc.cases };
    });
}

export const KIND_NAMES = { ILM: "IstioLifecycleManager", GLM: "GatewayLifecycleManager" } as const;

/** Wraps a list of installations into a full lifecycle object. */
export function lifecycleObject(kind: "ILM" | "GLM", installations: unknown, name = "istiod-control-plane"): unknown {
  return {
    apiVersion: "admin.gloo.solo.io/v2",
    kind: KIND_NAMES[kind],
    metadata: { name, namespace: "gloo-mesh" },
    spec: { installations },
  };
}
