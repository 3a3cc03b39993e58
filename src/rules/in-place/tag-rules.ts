import { entryPath } from "../../lifecycle/model.js";
import { classifyTagChange, type ParsedTag, type TagChange } from "../../lifecycle/tags.js";
import { shown } from "../../lifecycle/text.js";
import { installationLabel, waysOut } from "../messages.js";
import { defineRule, type Rule, type RuleContext, type RuleMeta } from "../types.js";
import { inPlacePairs, suggestRevision } from "./pairs.js";

type Kind = TagChange["kind"];

/**
 * LG101–LG106 all read the same classification of the tag change; each rule reports its own kind
 * of change, so that every id keeps one meaning.
 */
function tagRule(meta: Omit<RuleMeta, "operations" | "skippable" | "severity">, kind: Kind, describe: (change: TagChange, ctx: RuleContext, newTag: unknown) => string): Rule {
  return defineRule({ ...meta, severity: "deny", operations: ["UPDATE"], skippable: true }, (ctx, report) => {
    for (const pair of inPlacePairs(ctx)) {
      const newTag = pair.newEntry.spec.tag;
      const change = classifyTagChange(pair.oldEntry.spec.tag, newTag);
      if (change.kind !== kind) continue;
      report(
        entryPath(pair.newEntry, "istioOperatorSpec", "tag"),
        `${installationLabel(ctx, pair.newEntry, pair.clusters)}: ${describe(change, ctx, newTag)}`,
        { entry: pair.newEntry, object: "new" },
      );
    }
  });
}

const arrow = (from: string, to: string): string => `tag ${shown(from)} → ${shown(to)}`;

export const LG101 = tagRule(
  { id: "LG101", summary: "A tag patch downgrade (same major.minor, lower patch or Solo patch level) cannot be applied in place." },
  "downgrade",
  (c, ctx) => {
    if (c.kind !== "downgrade") return "";
    return `${arrow(c.from.raw, c.to.raw)} is a patch downgrade, not supported in place. ${waysOut(ctx, undefined)}`;
  },
);

export const LG102 = tagRule(
  { id: "LG102", summary: "A tag major or minor version change (up or down) needs a canary upgrade." },
  "majorMinor",
  (c, ctx, newTag) => {
    if (c.kind !== "majorMinor") return "";
    const direction = c.to.major * 1000 + c.to.minor > c.from.major * 1000 + c.from.minor ? "upgrade" : "downgrade";
    return `${arrow(c.from.raw, c.to.raw)} is a ${c.from.major === c.to.major ? "minor" : "major"} version ${direction}, not in place. ${waysOut(ctx, suggestRevision(ctx, newTag))}`;
  },
);

export const LG103 = tagRule(
  { id: "LG103", summary: "A tag cannot be added in place to an entry that had none (or auto)." },
  "added",
  (c, ctx, newTag) => {
    if (c.kind !== "added") return "";
    return `tag (unset) → ${shown(c.to)}: a tag cannot be added in place: hub and revision must be set too, so do a canary upgrade. ${waysOut(ctx, suggestRevision(ctx, newTag))}`;
  },
);

export const LG104 = tagRule(
  { id: "LG104", summary: "Removing a tag (or setting it to auto) is not an in-place upgrade." },
  "removed",
  (c, ctx) => {
    if (c.kind !== "removed") return "";
    return `tag ${shown(c.from)} → (unset): removing a tag is not an in-place upgrade. ${waysOut(ctx, undefined)}`;
  },
);

export const LG105 = tagRule(
  { id: "LG105", summary: "A tag change where either tag cannot be ordered as a version." },
  "unorderable",
  (c, ctx) => {
    if (c.kind !== "unorderable") return "";
    const which = c.which.map((p) => (p.ok ? "" : `"${shown(p.raw, 40)}" is not a version (${p.reason})`)).join("; ");
    return `${arrow(c.from, c.to)}: ${which}. ${waysOut(ctx, undefined)}`;
  },
);

export const LG106 = tagRule(
  {
    id: "LG106",
    summary: "The tag changes its form (variant suffix, v prefix, or the same version spelled differently): only a patch upgrade with the suffix written as before is in place.",
  },
  "respelled",
  (c, ctx) => {
    if (c.kind !== "respelled") return "";
    return `${arrow(c.from.raw, c.to.raw)} ${formChange(c.from, c.to)}: a tag is a literal image name, so it pulls another image (or none). ${waysOut(ctx, undefined)}`;
  },
);

/** What respelled a tag (the arrow already shows both): the suffix, the `v` prefix, or only the spelling. */
function formChange(from: ParsedTag, to: ParsedTag): string {
  if (from.variantText !== to.variantText) return "changes the suffix";
  if (from.vPrefix !== to.vPrefix) return `${to.vPrefix ? "adds" : "drops"} the v prefix`;
  return "spells the same version differently";
}

