import { shown } from "../../lifecycle/text.js";
import { entriesWith, entryPath, revisionLabel, sameGateway, type Entry } from "../../lifecycle/model.js";
import { parseTag } from "../../lifecycle/tags.js";
import { listNames } from "../messages.js";
import { defineRule } from "../types.js";

const both = ["CREATE", "UPDATE"] as const;

export const LG301 = defineRule(
  { id: "LG301", severity: "deny", operations: both, summary: "Two entries hold the same installation (same key on a shared cluster; for GLM, the same gateway)." },
  (ctx, report) => {
    const object = ctx.newObject;
    const key = ctx.kind.keyField;
    for (const later of object.entries) {
      // The earliest entry before this one that holds one of its installations, from the index.
      let earlier: Entry | undefined;
      for (const cluster of later.clusterFlags.keys()) {
        const holder = entriesWith(object, later.key, cluster).find((e) => e.index < later.index && (ctx.kind.short !== "GLM" || sameGateway(e, later)));
        if (holder && (!earlier || holder.index < earlier.index)) earlier = holder;
      }
      if (!earlier) continue;
      const shared = later.clusters.filter((c) => earlier.clusterFlags.has(c.name));
      const first = shared[0];
      if (!first) continue;
      report(
        entryPath(later, "clusters", first.index, "name"),
        `${key} ${revisionLabel(later.key)} is installed twice on ${listNames(shared.map((c) => c.name))} (entries ${earlier.index} and ${later.index}); Gloo applies one per ${key} per cluster. Merge them, or list each cluster in one entry only.`,
        undefined,
        [earlier, later],
      );
    }
  },
);

export const LG302 = defineRule(
  { id: "LG302", severity: "deny", operations: both, summary: "One entry lists the same cluster name twice." },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      const seen = new Set<string>();
      for (const cluster of entry.clusters) {
        if (seen.has(cluster.name)) {
          report(entryPath(entry, "clusters", cluster.index, "name"), `${ctx.kind.keyField} ${revisionLabel(entry.key)} lists cluster ${shown(cluster.name)} twice; list it once.`);
        }
        seen.add(cluster.name);
      }
    }
  },
);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_KEY_LENGTH = 56;

export const LG303 = defineRule(
  { id: "LG303", severity: "deny", operations: both, summary: "A revision is not a DNS-1123 label of at most 56 characters." },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      if (entry.key === "") continue;
      const problems: string[] = [];
      if (entry.key.length > MAX_KEY_LENGTH) problems.push(`is ${entry.key.length} characters long (at most ${MAX_KEY_LENGTH})`);
      if (!DNS_LABEL.test(entry.key)) problems.push("must be lower-case letters, digits and '-', starting and ending with a letter or digit");
      if (problems.length === 0) continue;
      report(
        entryPath(entry, ctx.kind.keyField),
        `${ctx.kind.keyField} "${shown(entry.key)}" ${problems.join(" and ")}: it names the namespace gm-iop-<revision> and the istio.io/rev label. Use a name such as 1-24.`,
      );
    }
  },
);

const VERSION_KEY = /^(\d+)-(\d+)(?:-.+)?$/;

export const LG304 = defineRule(
  { id: "LG304", severity: "warn", operations: both, summary: "A MAJOR-MINOR revision name disagrees with the entry's tag." },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      const key = VERSION_KEY.exec(entry.key);
      const tag = typeof entry.spec.tag === "string" ? parseTag(entry.spec.tag) : undefined;
      if (!key || !tag?.ok) continue;
      if (Number(key[1]) === tag.tag.major && Number(key[2]) === tag.tag.minor) continue;
      report(
        entryPath(entry, "istioOperatorSpec", "tag"),
        `${ctx.kind.keyField} ${revisionLabel(entry.key)} runs tag ${shown(tag.tag.raw)} (${tag.tag.major}.${tag.tag.minor}); name revisions after the version they run.`,
      );
    }
  },
);

export const LG305 = defineRule(
  { id: "LG305", severity: "deny", operations: both, summary: "The object is not of the shape the rules need (e.g. installations not a list, a flag not a boolean, tag not a string)." },
  (ctx, report) => {
    const problem = ctx.newObject.shapeProblem;
    if (problem) report(problem.path, `${problem.message}. Fix the field so the upgrade rules can check this change.`);
  },
);

export const LG306 = defineRule(
  { id: "LG306", severity: "warn", operations: both, summary: "A revision named default clashes with Istio's default revision tag." },
  (ctx, report) => {
    for (const entry of ctx.newObject.entries) {
      if (entry.key !== "default") continue;
      report(entryPath(entry, ctx.kind.keyField), `${ctx.kind.keyField} "default" is Istio's default revision tag: istio.io/rev=default would not select it. Use a version name such as 1-24.`);
    }
  },
);
