import { shown } from "../../lifecycle/text.js";
import { entryPath, NAMELESS, revisionLabel, type Entry } from "../../lifecycle/model.js";
import { parseTag } from "../../lifecycle/tags.js";
import { listNames } from "../messages.js";
import { defineRule, type RuleContext } from "../types.js";

const both = ["CREATE", "UPDATE"] as const;

export const LG301 = defineRule(
  { id: "LG301", judgesState: true, severity: "deny", operations: both, summary: "Two entries hold the same installation (same key on a shared cluster; for GLM, the same gateway).", doc: { why: "Gloo applies one installation per revision per cluster (for gateways: per gateway). Two entries holding the same installation conflict; which one wins is undefined.", example: {"before": "- revision: 1-24\n  clusters: [{name: cluster1}]\n- revision: 1-24\n  clusters: [{name: cluster1}]", "after": ""}, fix: "Merge the entries, or list each cluster in one entry only. The same revision on disjoint clusters is fine." } },
  (ctx, report) => {
    const object = ctx.newObject;
    const key = ctx.kind.keyField;
    const earliest = earliestHolders(ctx);
    for (const later of object.entries) {
      const earlier = earliest.get(later);
      if (!earlier) continue;
      const shared = later.clusters.filter((c) => earlier.clusterFlags.has(c.name));
      const first = shared[0];
      if (!first) continue;
      report(
        entryPath(later, "clusters", first.index, "name"),
        `${key} ${revisionLabel(later.key)} is installed twice on ${listNames(shared.map((c) => c.name))} (entries ${earlier.index} and ${later.index}); Gloo applies one per ${key} per cluster. Merge them, or list each cluster in one entry only.`,
        undefined,
        [earlier, later],
        shared.map((c) => `${later.key}\u0000${c.name}\u0000${later.gateways.join(",")}`),
      );
    }
  },
);

/**
 * For each entry, the earliest entry before it that holds one of its installations (same key on a
 * shared cluster; for GLM the same gateway). One pass over each (key, cluster) list keeps the
 * first holder per gateway group, so a thousand entries of one installation cost a thousand steps.
 */
function earliestHolders(ctx: RuleContext): Map<Entry, Entry> {
  const earliest = new Map<Entry, Entry>();
  const gateways = ctx.kind.short === "GLM";
  for (const { entries } of ctx.newObject.byInstallation.values()) {
    const [first] = entries;
    if (!first || entries.length < 2) continue;
    const firstOfGroup = new Map<number, Entry>();
    let firstNameless: Entry | undefined;
    for (const entry of entries) {
      ctx.tick();
      let holder: Entry | undefined;
      if (!gateways || entry.group === NAMELESS) holder = first === entry ? undefined : first;
      else {
        const sameGroup = firstOfGroup.get(entry.group);
        holder = sameGroup && firstNameless ? (sameGroup.index < firstNameless.index ? sameGroup : firstNameless) : (sameGroup ?? firstNameless);
      }
      if (holder && holder !== entry) {
        const known = earliest.get(entry);
        if (!known || holder.index < known.index) earliest.set(entry, holder);
      }
      if (entry.group === NAMELESS) firstNameless ??= entry;
      else if (!firstOfGroup.has(entry.group)) firstOfGroup.set(entry.group, entry);
    }
  }
  return earliest;
}

export const LG302 = defineRule(
  { id: "LG302", judgesState: true, severity: "deny", operations: both, summary: "One entry lists the same cluster name twice.", doc: { why: "A cluster listed twice in one entry is ambiguous (two flags, two trust domains).", example: {"before": "clusters: [{name: cluster1}, {name: cluster1}]", "after": ""}, fix: "List each cluster once." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      const seen = new Set<string>();
      for (const cluster of entry.clusters) {
        if (seen.has(cluster.name)) {
          report(entryPath(entry, "clusters", cluster.index, "name"), `${ctx.kind.keyField} ${revisionLabel(entry.key)} lists cluster ${shown(cluster.name)} twice; list it once.`, undefined, undefined, [`${entry.key}\u0000${cluster.name}`]);
        }
        seen.add(cluster.name);
      }
    }
  },
);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_KEY_LENGTH = 56;

export const LG303 = defineRule(
  { id: "LG303", judgesState: true, severity: "deny", operations: both, summary: "A revision is not a DNS-1123 label of at most 56 characters.", doc: { why: "The revision becomes the namespace gm-iop-<revision> and the istio.io/rev label value: it must be a DNS-1123 label, and short enough for the namespace prefix (at most 56 characters).", example: {"before": "revision: 1.24", "after": "", "instead": "revision: 1-24"}, fix: "Use lower-case letters, digits and '-', such as 1-24." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      if (entry.key === "") continue;
      const problems: string[] = [];
      if (entry.key.length > MAX_KEY_LENGTH) problems.push(`is ${entry.key.length} characters long (at most ${MAX_KEY_LENGTH})`);
      if (!DNS_LABEL.test(entry.key)) problems.push("is not a DNS-1123 label (lower-case letters, digits, '-')");
      if (problems.length === 0) continue;
      report(
        entryPath(entry, ctx.kind.keyField),
        `${ctx.kind.keyField} "${shown(entry.key)}" ${problems.join(" and ")}: it names the namespace gm-iop-<revision> and the istio.io/rev label. Use a name such as 1-24.`,
        undefined,
        undefined,
        [entry.key],
      );
    }
  },
);

const VERSION_KEY = /^(\d+)-(\d+)(?:-.+)?$/;

export const LG304 = defineRule(
  { id: "LG304", judgesState: true, severity: "warn", operations: both, summary: "A MAJOR-MINOR revision name disagrees with the entry's tag.", doc: { why: "A revision named after a version (1-23) that runs another minor version (1.24.2) misleads whoever reads istio.io/rev labels during the next upgrade.", example: {"before": "revision: 1-23\ntag: 1.24.2-solo", "after": ""}, fix: "Name revisions after the version they run; change a name by a canary (a new entry), never in place." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      const key = VERSION_KEY.exec(entry.key);
      const tag = typeof entry.spec.tag === "string" ? parseTag(entry.spec.tag) : undefined;
      if (!key || !tag?.ok) continue;
      if (Number(key[1]) === tag.tag.major && Number(key[2]) === tag.tag.minor) continue;
      report(
        entryPath(entry, "istioOperatorSpec", "tag"),
        `${ctx.kind.keyField} ${revisionLabel(entry.key)} runs tag ${shown(tag.tag.raw)} (${tag.tag.major}.${tag.tag.minor}); name revisions after the version they run.`,
        undefined,
        undefined,
        [`${entry.key}\u0000${tag.tag.major}.${tag.tag.minor}`],
      );
    }
  },
);

export const LG305 = defineRule(
  { id: "LG305", judgesState: true, severity: "deny", operations: both, summary: "The object is not of the shape the rules need (e.g. installations not a list, a flag not a boolean, tag not a string).", doc: { why: "The rules need spec.installations to be a list of objects, clusters a list, flags booleans and the tag a string. An object of another shape cannot be checked, so it is not let through.", example: {"before": "tag: 1.24  # a YAML number", "after": "", "instead": "tag: \"1.24.2\""}, fix: "Fix the field the message names (quote tags in YAML).", bypass: "None: an object the rules cannot read is never let through. An object stored before the webhook that already had the problem can still take unrelated edits (the problem is reported, not denied)." } },
  (ctx, report) => {
    const problem = ctx.newObject.shapeProblem;
    if (problem) report(problem.path, `${problem.message}. Fix the field so the upgrade rules can check this change.`, undefined, undefined, [`${problem.path}\u0000${problem.message}`]);
  },
);

export const LG306 = defineRule(
  { id: "LG306", judgesState: true, severity: "warn", operations: both, summary: "A revision named default clashes with Istio's default revision tag.", doc: { why: "istio.io/rev=default selects Istio's default revision tag, not a revision named default.", example: {"before": "revision: default", "after": "", "instead": "revision: 1-24"}, fix: "Use a version name such as 1-24." } },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      if (entry.key !== "default") continue;
      report(entryPath(entry, ctx.kind.keyField), `${ctx.kind.keyField} "default" is Istio's default revision tag: istio.io/rev=default would not select it. Use a version name such as 1-24.`, undefined, undefined, ["default"]);
    }
  },
);
