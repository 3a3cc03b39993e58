#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { ConfigError } from "../server/config.js";
import { SeverityOverrideError } from "../rules/severity-policy.js";
import type { JsonObject } from "../lifecycle/values.js";
import { InputError } from "./input.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** A usage problem: one line, pointing at the command's --help; exit 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function program(): Command {
  const root = new Command("lifecycle-guard")
    .description("Admission webhook and CLI that guard Istio upgrades managed by Gloo lifecycle managers.")
    .version(VERSION, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  root
    .command("serve")
    .description("Serve POST /validate (and, with CANARY_DEFAULTING=on, /mutate) over HTTPS, and /healthz, /readyz, /metrics over HTTP. Every setting is an environment variable: see the README's configuration table.")
    .action(async () => {
      process.exitCode = await serve();
    });

  root
    .command("check")
    .description("Decide a change offline, as the webhook would, before it is merged.")
    .option("--old <path...>", "what is live now: files, directories (*.yaml, *.yml, *.json, recursively) or - for stdin, e.g. `kubectl get istiolifecyclemanagers,gatewaylifecyclemanagers -A -o yaml`", collect)
    .requiredOption("--new <path...>", "the proposed objects: files, directories or - for stdin (e.g. `kustomize build . | lifecycle-guard check --new -`)", collect)
    .option("-n, --namespace <ns>", "the namespace of objects that name none, as kubectl apply -n would set it")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json", "sarif", "junit"]).default("text"))
    .option("--severity <overrides>", "per-rule levels, e.g. LG207=deny,LG304=off (LG1xx and LG305 always deny)")
    .addOption(new Option("--skip-upgrade-validation <mode>", "honor or ignore skipUpgradeValidation: true on entries").choices(["honor", "ignore"]).default("honor"))
    .option("--cluster", "also run the cross-object rules LG501–LG503 against the lifecycle managers of the current kube context (listed once, read-only)", false)
    .addHelpText(
      "after",
      "\nObjects are paired by kind, namespace and name; an object without a namespace takes --namespace, or pairs with the one object of its kind and name on the other side. Without --old every object is a CREATE.\nExit codes: 0 allowed (warnings allowed), 1 denied, 2 usage or input error.",
    )
    .action(async (options: CheckFlags) => {
      process.exitCode = await check(options);
    });

  root
    .command("plan")
    .description("Write the canary upgrade of an IstioLifecycleManager (and the GatewayLifecycleManagers that use it) as numbered step files and a runbook, each step checked with the rules.")
    .requiredOption("--current <path...>", "the live ILM and its GLMs as kubectl get -o yaml prints them (a List, multi-document YAML or JSON; - for stdin)", collect)
    .requiredOption("--tag <tag>", "the Istio tag to upgrade to, e.g. 1.24.2-solo")
    .option("--hub <hub>", "a new image repository (hub) for the canary")
    .option("--revision <name>", "the canary's revision name (default: MAJOR-MINOR of the tag, or MAJOR-MINOR-PATCH when taken)")
    .option("--name <ilm>", "which IstioLifecycleManager, when the input holds several")
    .option("--output-dir <dir>", "write 00-current.yaml, the step files and RUNBOOK.md here; without it, print the runbook with the manifests inline")
    .addHelpText("after", "\nA tag change that is a plain patch upgrade needs no plan: it says so and prints the one in-place edit.\nExit codes: 0 written (or a patch upgrade), 1 a step would be denied (nothing written), 2 usage or input error, or no plan possible (the reason is printed).")
    .action(async (options: PlanFlags) => {
      process.exitCode = await plan(options);
    });

  root
    .command("rules")
    .description("List the rules, or explain one: what it checks, why, an example, the fix and the bypass.")
    .argument("[id]", "a rule id, e.g. LG102")
    .option("--markdown", "print docs/rules.md (every rule, explained)", false)
    .action(async (id: string | undefined, options: { markdown: boolean }) => {
      const { findRule, ruleText, rulesMarkdown, rulesTable } = await import("./rules-doc.js");
      if (id === undefined) {
        process.stdout.write(options.markdown ? rulesMarkdown() : rulesTable());
        return;
      }
      const rule = findRule(id);
      if (!rule) throw new UsageError(`unknown rule ${JSON.stringify(id)}; lifecycle-guard rules lists them`, "rules");
      process.stdout.write(ruleText(rule));
    });

  root
    .command("dev-certs")
    .description("Write a development CA and a localhost serving certificate.")
    .option("--dir <dir>", "where to write ca.crt, tls.crt and tls.key", "certs")
    .action(async (options: { dir: string }) => {
      const { writeDevCertificates } = await import("../certs/generate.js");
      const files = await writeDevCertificates(options.dir);
      process.stdout.write(`wrote ${files.caFile}, ${files.certFile}, ${files.keyFile}\n`);
    });

  return root;
}

interface PlanFlags {
  readonly current: string[];
  readonly tag: string;
  readonly hub?: string;
  readonly revision?: string;
  readonly name?: string;
  readonly outputDir?: string;
}

async function plan(flags: PlanFlags): Promise<number> {
  const { loadInput } = await import("./input.js");
  const { planUpgrade, PlanRefusal, cleanForGit } = await import("../plan/plan.js");
  const { verifyStep } = await import("../plan/verify.js");
  const { canaryRunbook, patchAdvice, stepYaml } = await import("../plan/runbook.js");
  const { causesOf } = await import("../admission/response.js");
  const input = await loadInput(flags.current);
  const objects = input.lifecycle.map((o) => o.object);
  let result;
  try {
    result = planUpgrade({ objects, tag: flags.tag, ...(flags.hub ? { hub: flags.hub } : {}), ...(flags.revision ? { revision: flags.revision } : {}), ...(flags.name ? { name: flags.name } : {}) });
  } catch (error) {
    if (error instanceof PlanRefusal) throw new InputError(`no plan: ${error.message}`);
    throw error;
  }
  if (result.kind === "patch") {
    process.stdout.write(patchAdvice(result));
    return 0;
  }
  // Refuse to write a plan the webhook would deny at any step.
  let previous: readonly JsonObject[] = objects;
  for (const [i, step] of result.steps.entries()) {
    for (const verdict of verifyStep(previous, step.objects)) {
      if (verdict.decision.allowed) continue;
      const causes = causesOf(verdict.decision.denials, verdict.decision.omittedDenials).map((c) => `  ${c.field}: ${c.message}`);
      process.stderr.write(`lifecycle-guard: no plan written: step ${i + 1} (${step.file}) would be denied for ${verdict.object}:\n${causes.join("\n")}\n`);
      return 1;
    }
    previous = step.objects;
  }
  if (!flags.outputDir) {
    process.stdout.write(canaryRunbook(result, true));
    return 0;
  }
  const { mkdir, writeFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  await mkdir(flags.outputDir, { recursive: true });
  await writeFile(join(flags.outputDir, "00-current.yaml"), stepYaml(result.current.map(cleanForGit)));
  for (const step of result.steps) await writeFile(join(flags.outputDir, step.file), stepYaml(step.objects));
  await writeFile(join(flags.outputDir, "RUNBOOK.md"), canaryRunbook(result));
  process.stdout.write(
    `Canary upgrade ${result.oldRevision} → ${result.newRevision} (${result.tag}) written to ${flags.outputDir}: 00-current.yaml, ${result.steps.map((s) => s.file).join(", ")}, RUNBOOK.md. Each step was checked against the one before; follow RUNBOOK.md between them.\n`,
  );
  return 0;
}

interface CheckFlags {
  readonly old?: string[];
  readonly new: string[];
  readonly namespace?: string;
  readonly output: "text" | "json" | "sarif" | "junit";
  readonly severity?: string;
  readonly skipUpgradeValidation: "honor" | "ignore";
  readonly cluster: boolean;
}

async function check(flags: CheckFlags): Promise<number> {
  const { parseSeverityOverrides } = await import("../rules/severity-policy.js");
  let severities;
  try {
    severities = parseSeverityOverrides(flags.severity);
  } catch (error) {
    throw new UsageError(`--severity: ${(error as Error).message}`, "check");
  }
  if ([...(flags.old ?? []), ...flags.new].filter((p) => p === "-").length > 1) throw new UsageError("stdin (-) can be read once: give it to --old or --new, not both", "check");
  // Subcommands load only what they use: `check` in a CI pipeline should not pay for the server.
  const { loadInput } = await import("./input.js");
  const { formatJson, formatJunit, formatSarif, formatText, runCheck } = await import("./check.js");
  const [oldSet, newSet] = await Promise.all([flags.old ? loadInput(flags.old) : Promise.resolve(undefined), loadInput(flags.new)]);
  let cluster;
  if (flags.cluster) {
    const { loadCurrentContext } = await import("../cluster/config.js");
    const { listClusterView } = await import("../cluster/snapshot.js");
    try {
      cluster = await listClusterView(loadCurrentContext());
    } catch (error) {
      throw new InputError(`--cluster: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const report = runCheck(
    { old: oldSet, new: newSet },
    {
      engine: { skipPolicy: { mode: flags.skipUpgradeValidation, users: [], groups: [] }, severities },
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      ...(cluster ? { cluster } : {}),
    },
  );
  const output = { text: () => formatText(report), json: () => formatJson(report), sarif: () => formatSarif(report, VERSION), junit: () => formatJunit(report) }[flags.output];
  process.stdout.write(output());
  return report.results.every((r) => r.decision.allowed) ? 0 : 1;
}

async function serve(): Promise<number> {
  const { loadConfig } = await import("../server/config.js");
  const config = loadConfig();
  const { createLogger, flushLogs, startServer } = await import("../server/serve.js");
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
    flushLogs(logger);
    if (error instanceof ConfigError) process.stderr.write(`lifecycle-guard: ${error.message}\n`);
    return 1;
  }
  const running = server;
  const stop = (signal: string): void => {
    logger.info({ signal }, "shutting down");
    running.drain().then(
      () => {
        flushLogs(logger);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error while draining");
        flushLogs(logger);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return 0;
}

/** Which command a failed parse was about, for the pointer to its --help. */
function commandOf(argv: readonly string[]): string {
  const name = argv.find((a) => !a.startsWith("-"));
  return name && ["serve", "check", "plan", "rules", "dev-certs"].includes(name) ? ` ${name}` : "";
}

async function main(argv: string[]): Promise<void> {
  const root = program();
  try {
    if (argv.length === 0) throw new UsageError("no command given", "");
    await root.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end the parse with exit code 0 after printing.
      if (error.exitCode === 0 || error.code === "commander.helpDisplayed" || error.code === "commander.version") return;
      const message = error.message.replace(/^error: /, "");
      process.stderr.write(`lifecycle-guard: ${message} (see lifecycle-guard${commandOf(argv)} --help)\n`);
      process.exitCode = 2;
    } else if (error instanceof UsageError) {
      process.stderr.write(`lifecycle-guard: ${error.message} (see lifecycle-guard${error.command ? ` ${error.command}` : ""} --help)\n`);
      process.exitCode = 2;
    } else if (error instanceof InputError || error instanceof ConfigError || error instanceof SeverityOverrideError) {
      process.stderr.write(`lifecycle-guard: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`lifecycle-guard: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 2;
    }
  }
}

await main(process.argv.slice(2));
