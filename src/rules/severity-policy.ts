import { RULES } from "./registry.js";
import type { Severity } from "./types.js";

/** What an operator may set a rule to: its severity, or off. */
export type Level = Severity | "off";
export type SeverityOverrides = ReadonlyMap<string, Level>;

export class SeverityOverrideError extends Error {}

/**
 * The rules the webhook exists for: LG1xx and LG305 cannot be lowered below deny
 * (skipUpgradeValidation and its policy are the bypass). Spec, "Policy settings".
 */
export function isProtected(id: string): boolean {
  return id.startsWith("LG1") || id === "LG305";
}

const LEVELS: ReadonlySet<string> = new Set<Level>(["deny", "warn", "off"]);

/**
 * Reads `LG207=deny,LG304=off,LG401=warn`. An unknown id or level, or lowering a protected rule,
 * is an error naming it: the server refuses to start, the CLI exits 2.
 */
export function parseSeverityOverrides(text: string | undefined): SeverityOverrides {
  const overrides = new Map<string, Level>();
  const known = new Set(RULES.map((r) => r.id));
  for (const item of (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const match = /^([A-Za-z0-9]+)\s*=\s*([a-z]+)$/.exec(item);
    if (!match) throw new SeverityOverrideError(`"${item}" is not ID=LEVEL (for example LG207=deny)`);
    const id = (match[1] as string).toUpperCase();
    const level = match[2] as string;
    if (!known.has(id)) throw new SeverityOverrideError(`unknown rule ${id} (lifecycle-guard rules lists them)`);
    if (!LEVELS.has(level)) throw new SeverityOverrideError(`unknown level "${level}" for ${id}: use deny, warn or off`);
    if (isProtected(id) && level !== "deny") throw new SeverityOverrideError(`${id} cannot be set to ${level}: LG1xx and LG305 always deny (skipUpgradeValidation is their bypass)`);
    overrides.set(id, level as Level);
  }
  return overrides;
}
