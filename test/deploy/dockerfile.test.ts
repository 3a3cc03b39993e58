import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: { readonly keyword: string; readonly args: string }[];
}

/** Docker cannot build here, so the Dockerfile's key properties are read from the file itself. */
function stages(): Stage[] {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const args = new Map<string, string>();
  const result: { from: string; name: string | undefined; instructions: { keyword: string; args: string }[] }[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    const [keyword = "", ...rest] = line.split(/\s+/);
    const value = rest.join(" ").replace(/\$\{(\w+)\}/g, (_m, name: string) => args.get(name) ?? "");
    if (keyword === "ARG" && result.length === 0) {
      const [name, def] = value.split("=");
      if (name && def) args.set(name, def);
    } else if (keyword === "FROM") {
      const [from = "", , name] = value.split(/\s+/);
      result.push({ from, name, instructions: [] });
    } else {
      result[result.length - 1]?.instructions.push({ keyword, args: value });
    }
  }
  return result;
}

describe("the container image", () => {
  const all = stages();
  const runtime = all[all.length - 1] as Stage;
  const build = all.find((s) => s.name === "build") as Stage;

  it("is multi-stage on a current Node.js LTS line (an even major)", () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) {
      const major = Number(/^node:(\d+)/.exec(stage.from)?.[1]);
      expect(major % 2, stage.from).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
    }
  });

  it("builds with dev dependencies and installs production dependencies only in the final stage", () => {
    expect(build.instructions.some((i) => i.keyword === "RUN" && /npm ci\b/.test(i.args) && !i.args.includes("--omit=dev"))).toBe(true);
    expect(build.instructions.some((i) => i.keyword === "RUN" && i.args.includes("npm run build"))).toBe(true);
    const installs = runtime.instructions.filter((i) => i.keyword === "RUN" && /npm (ci|install)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toContain("--omit=dev");
    // node_modules never comes across from the build stage (it has the dev dependencies).
    for (const copy of runtime.instructions.filter((i) => i.keyword === "COPY")) expect(copy.args).not.toMatch(/node_modules/);
  });

  it("runs as a non-root numeric user", () => {
    const user = runtime.instructions.filter((i) => i.keyword === "USER").pop()?.args ?? "";
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
  });

  it("runs the CLI (ENTRYPOINT) with serve as the default command (CMD), from a file the build produces", () => {
    const entrypoint = JSON.parse(runtime.instructions.filter((i) => i.keyword === "ENTRYPOINT").pop()?.args ?? "[]") as string[];
    const cmd = JSON.parse(runtime.instructions.filter((i) => i.keyword === "CMD").pop()?.args ?? "[]") as string[];
    expect(entrypoint).toHaveLength(2);
    expect(entrypoint[0]).toBe("node");
    expect(cmd).toEqual(["serve"]);
    // The Deployment sets neither command nor args, so the pod runs `serve`.
    expect(readFileSync(join(ROOT, "manifests", "deployment.yaml"), "utf8")).not.toMatch(/^\s+(command|args):/m);
    const script = entrypoint[1] ?? "";
    const copied = runtime.instructions.find((i) => i.keyword === "COPY" && i.args.includes("--from=build"))?.args ?? "";
    // /app/dist/cli/main.js comes from the build stage's dist/, which is `npm run build` (tsc) output.
    expect(copied).toMatch(/\/src\/dist \.\/dist/);
    expect(script).toBe("/app/dist/cli/main.js");
    const bin = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> }).bin["lifecycle-guard"];
    expect(bin).toBe("dist/cli/main.js");
    expect(existsSync(join(ROOT, "dist", "cli", "main.js")), "dist/cli/main.js (npm run build)").toBe(true);
  });

  it("leaves development files out of the build context", () => {
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
    for (const path of ["node_modules", "dist", "certs", ".git"]) expect(ignored).toContain(path);
    for (const needed of ["src", "package.json", "package-lock.json", "tsconfig.json"]) expect(ignored).not.toContain(needed);
  });
});
