#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../server/config.js";
import { InputError } from "./load.js";

const USAGE = `lifecycle-guard: admission webhook that guards Istio upgrades managed by Gloo lifecycle managers

Usage:
  lifecycle-guard serve
      Serve POST /validate over HTTPS (PORT, TLS_CERT_FILE, TLS_KEY_FILE) and /healthz, /readyz
      over HTTP (OPS_PORT). See the README for every setting.
  lifecycle-guard check [--old FILE] --new FILE [--output text|json] [--skip-upgrade-validation honor|ignore] [--cluster]
      Decide a change offline, as the webhook would. FILEs are YAML (multi-document) or JSON;
      objects are paired by kind, namespace and name; without --old every object is a CREATE.
      --cluster also runs the cross-object rules (LG501-LG503) against the lifecycle managers in
      the cluster of the current kube context (read-only: it lists them once).
      Exit 0: allowed (warnings allowed). 1: denied. 2: usage or input error.
  lifecycle-guard rules [--markdown]
      List the rules.
  lifecycle-guard dev-certs [--dir DIR]
      Write a development CA and a localhost serving certificate (default dir: certs).
`;

class UsageError extends Error {}

async function check(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      old: { type: "string" },
      new: { type: "string" },
      output: { type: "string", short: "o", default: "text" },
      "skip-upgrade-validation": { type: "string", default: "honor" },
      cluster: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.new) throw new UsageError("check needs --new FILE");
  if (values.output !== "text" && values.output !== "json") throw new UsageError(`--output must be text or json, got ${values.output}`);
  const skip = values["skip-upgrade-validation"];
  if (skip !== "honor" && skip !== "ignore") throw new UsageError(`--skip-upgrade-validation must be honor or ignore, got ${skip}`);
  // Subcommands load only what they use: `check` in a CI pipeline should not pay for the server.
  const { formatJson, formatText, runCheck } = await import("./check.js");
  let cluster = {};
  if (values.cluster) {
    const { loadCurrentContext } = await import("../cluster/config.js");
    const { listClusterView } = await import("../cluster/snapshot.js");
    try {
      cluster = { cluster: await listClusterView(loadCurrentContext()), clusterAware: true };
    } catch (error) {
      throw new InputError(`--cluster: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const results = await runCheck(values.old, values.new, { skipPolicy: { mode: skip, users: [], groups: [] }, ...cluster });
  process.stdout.write(values.output === "json" ? formatJson(results) : formatText(results));
  return results.every((r) => r.decision.allowed) ? 0 : 1;
}

async function serve(): Promise<number> {
  const config = loadConfig();
  const { createLogger, flushLogs, startServer } = await import("../server/serve.js");
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, `cannot start: ${error instanceof Error ? error.message : String(error)}`);
    flushLogs(logger);
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
  return -1; // keep running until a signal
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return serve();
    case "check":
      return check(rest);
    case "rules": {
      const { values } = parseArgs({ args: rest, options: { markdown: { type: "boolean", default: false } }, strict: true });
      const { rulesMarkdown, rulesTable } = await import("./rules-doc.js");
      process.stdout.write(values.markdown ? rulesMarkdown() : rulesTable());
      return 0;
    }
    case "dev-certs": {
      const { values } = parseArgs({ args: rest, options: { dir: { type: "string", default: "certs" } }, strict: true });
      const { writeDevCertificates } = await import("../certs/generate.js");
      const files = await writeDevCertificates(values.dir);
      process.stdout.write(`wrote ${files.caFile}, ${files.certFile}, ${files.keyFile}\n`);
      return 0;
    }
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return 0;
    case undefined:
      throw new UsageError("no command given");
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"));
    if (usage) process.stderr.write(`lifecycle-guard: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    else if (error instanceof InputError || error instanceof ConfigError) process.stderr.write(`lifecycle-guard: ${error.message}\n`);
    else process.stderr.write(`lifecycle-guard: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
