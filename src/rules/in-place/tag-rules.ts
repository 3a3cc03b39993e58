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
  { id: "LG101", summary: "A tag patch downgrade (same major.minor, lower patch or Solo patch level) cannot be applied in place.", doc: { why: "The guide: \"In-place upgrades are not supported for downgrading the patch version.\" Gloo would roll the control plane back under running workloads.", example: {"before": "tag: 1.24.3-solo", "after": "tag: 1.24.2-solo", "instead": "add revision 1-24-2 with tag 1.24.2-solo beside 1-24"}, fix: "To go back to an older patch, run it as a canary: a new entry with its own revision and the older tag, then switch to it. Or revert the edit." } },
  "downgrade",
  (c, ctx) => {
    if (c.kind !== "downgrade") return "";
    return `${arrow(c.from.raw, c.to.raw)} is a patch downgrade, not supported in place. ${waysOut(ctx, undefined)}`;
  },
);

export const LG102 = tagRule(
  { id: "LG102", summary: "A tag major or minor version change (up or down) needs a canary upgrade.", doc: { why: "The upgrade guide: \"If your installation is revisioned, in-place upgrades are triggered only when you apply changes to one of the following fields: istioOperatorSpec.tag patch version, istioOperatorSpec.meshConfig values. Otherwise, a canary upgrade is required.\" A minor or major version is not a patch: \"Perform a canary upgrade when you change ... istioOperatorSpec.tag minor version\".", example: {"before": "revision: 1-23\ntag: 1.23.4-solo", "after": "revision: 1-23\ntag: 1.24.2-solo", "instead": "keep 1-23 and add revision 1-24 with tag 1.24.2-solo"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } },
  "majorMinor",
  (c, ctx, newTag) => {
    if (c.kind !== "majorMinor") return "";
    const direction = c.to.major * 1000 + c.to.minor > c.from.major * 1000 + c.from.minor ? "upgrade" : "downgrade";
    return `${arrow(c.from.raw, c.to.raw)} is a ${c.from.major === c.to.major ? "minor" : "major"} version ${direction}, not in place. ${waysOut(ctx, suggestRevision(ctx, newTag), { tag: newTag })}`;
  },
);

export const LG103 = tagRule(
  { id: "LG103", summary: "A tag cannot be added in place to an entry that had none (or auto).", doc: { why: "The guide: \"In-place upgrades are not supported if you do not already specify a tag value, such as if you want to switch from the auto setting to a specific version. This is because you must also specify hub and revision values, which require a canary upgrade.\"", example: {"before": "revision: auto\n# no tag", "after": "revision: auto\ntag: 1.24.2-solo", "instead": "add revision 1-24 with hub and tag set"}, fix: "Do a canary upgrade: keep this entry, add a new entry with a new revision (for example 1-24) and defaultRevision/activeGateway false, verify it, switch the flag, move workloads, then remove the old entry. `lifecycle-guard plan --current live.yaml --tag <tag>` writes those steps." } },
  "added",
  (c, ctx, newTag) => {
    if (c.kind !== "added") return "";
    return `tag (unset) → ${shown(c.to)}: a tag cannot be added in place: hub and revision must be set too, so do a canary upgrade. ${waysOut(ctx, suggestRevision(ctx, newTag), { tag: newTag })}`;
  },
);

export const LG104 = tagRule(
  { id: "LG104", summary: "Removing a tag (or setting it to auto) is not an in-place upgrade.", doc: { why: "Removing the tag (or setting it to auto) lets Gloo pick its default version: an unplanned version change in place, which the guide does not list as in-place.", example: {"before": "tag: 1.24.2-solo", "after": "# tag removed"}, fix: "Keep the tag. To move to Gloo's default version, add it as a canary entry and switch to it." } },
  "removed",
  (c, ctx) => {
    if (c.kind !== "removed") return "";
    return `tag ${shown(c.from)} → (unset): removing a tag is not an in-place upgrade. ${waysOut(ctx, undefined)}`;
  },
);

export const LG105 = tagRule(
  { id: "LG105", summary: "A tag change where either tag cannot be ordered as a version.", doc: { why: "Only a patch upgrade is in place, and lifecycle-guard must order both tags to know it is one. A tag such as latest, a digest or a dev build cannot be ordered, so the change cannot be shown to be a patch upgrade.", example: {"before": "tag: 1.24.2-solo", "after": "tag: latest"}, fix: "Use a released tag of the form MAJOR.MINOR.PATCH[-suffix], or do a canary upgrade." } },
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
    summary: "The tag changes its form (variant suffix, v prefix, or the same version spelled differently): only a patch upgrade with the suffix written as before is in place.", doc: { why: "An image tag is a literal name: a respelled tag pulls another image, or none. 1.23.5 is not the same image as 1.23.5-solo, -SOLO is not -solo, v1.23.5 is not 1.23.5, and 1.24.2-patch0-solo is not 1.24.2-solo. Only a patch upgrade with the suffix written exactly as before (same parts, order and case; no v added or dropped) is in place.", example: {"before": "tag: 1.23.4-solo", "after": "tag: 1.23.5", "instead": "tag: 1.23.5-solo"}, fix: "Keep the suffix exactly as it was written and change only the patch number; a new variant (fips, distroless) is a canary upgrade." },
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

