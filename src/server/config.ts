import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { delimiter } from "node:path";
import { parseSeverityOverrides, SeverityOverrideError, type SeverityOverrides } from "../rules/severity-policy.js";
import type { SkipPolicy } from "../rules/skip-policy.js";

/** Everything the server reads from its environment, validated once at start-up. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly opsPort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  /** True when TLS_CERT_FILE or TLS_KEY_FILE was set: then a missing file is an error, never replaced. */
  readonly tlsConfigured: boolean;
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  readonly skipPolicy: SkipPolicy;
  /** Verify client certificates against this CA (mTLS); off when unset. */
  readonly clientCaFile: string | undefined;
  readonly certReloadIntervalMs: number;
  /** Above the API server's 90 s idle timeout, so we never close a connection it is about to reuse. */
  readonly keepAliveTimeoutMs: number;
  /** A client that has not sent its headers by then is disconnected. */
  readonly headersTimeoutMs: number;
  /** The whole request must arrive within this; a body that stalls is cut with 408. */
  readonly requestTimeoutMs: number;
  /** Request body bytes being read or decided at once; past it a request gets 429. */
  readonly maxInFlightBytes: number;
  /** After SIGTERM, keep accepting (answering with Connection: close) this long before closing the listener. */
  readonly shutdownDelayMs: number;
  /** Upper bound for in-flight reviews to finish after the listener closes. */
  readonly shutdownTimeoutMs: number;
  /** Share of the API server's ?timeout= the webhook may use before answering without a decision. */
  readonly deadlineFraction: number;
  /** The answer when the deadline passes: deny (fail closed) or allow with a warning. */
  readonly onDeadline: "deny" | "allow";
  /** Record Kubernetes Events for denials and warnings (needs the cluster connection). */
  readonly events: boolean;
  readonly eventDedupWindowMs: number;
  /** LG701: deny deleting a lifecycle manager that installs something, unless it is annotated. */
  readonly deletionProtection: boolean;
  /** Serve POST /mutate; its MutatingWebhookConfiguration is an optional component, off by default. */
  readonly canaryDefaulting: boolean;
  /** RULE_SEVERITY: the operator's level per rule. */
  readonly severities: SeverityOverrides;
}

export class ConfigError extends Error {}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
/**
 * The API server accepts objects up to 3 MiB (--max-request-bytes) and sends two per UPDATE
 * review, plus the envelope: 7 MiB holds any review it can send, and nothing much larger.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 7 * 1024 * 1024;
/** Two of the largest reviews at once: each needs ~15x its size in memory while decided, within the 512 MiB the pod may use. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 12 * 1024 * 1024;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function fraction(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0.1 || value > 0.95) throw new ConfigError(`${name} must be a number from 0.1 to 0.95, got ${JSON.stringify(raw)}`);
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A file a setting names must exist and be readable now, not when it is first used. */
function readableFile(name: string, path: string): void {
  try {
    if (!statSync(path).isFile()) throw new ConfigError(`${name} ${path} is not a file`);
    readFileSync(path, { flag: "r" }).subarray(0, 0);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${name} ${path} cannot be read (${code === "ENOENT" ? "no such file" : (code ?? String(error))})`);
  }
}

/** HOST is an IP address or a host name; `999.1.1.1` is neither. */
function host(env: NodeJS.ProcessEnv): string {
  const value = env.HOST || "0.0.0.0";
  const looksNumeric = /^[\d.]+$/.test(value);
  const hostName = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(value);
  if (isIP(value) || (!looksNumeric && hostName)) return value;
  throw new ConfigError(`HOST must be an IP address or a host name, got ${JSON.stringify(value)}`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  const skipMode = (env.SKIP_UPGRADE_VALIDATION ?? "honor").toLowerCase();
  if (skipMode !== "honor" && skipMode !== "ignore") throw new ConfigError(`SKIP_UPGRADE_VALIDATION must be honor or ignore, got ${JSON.stringify(env.SKIP_UPGRADE_VALIDATION)}`);
  const port = integer(env, "PORT", 8443, 0, 65535);
  const opsPort = integer(env, "OPS_PORT", 8081, 0, 65535);
  if (port !== 0 && port === opsPort) throw new ConfigError(`PORT and OPS_PORT must differ (both ${port})`);
  const events = (env.EVENTS ?? "on").toLowerCase();
  if (events !== "on" && events !== "off") throw new ConfigError(`EVENTS must be on or off, got ${JSON.stringify(env.EVENTS)}`);
  const skipUsers = list(env.SKIP_UPGRADE_VALIDATION_USERS);
  const skipGroups = list(env.SKIP_UPGRADE_VALIDATION_GROUPS);
  if (skipMode === "ignore" && (skipUsers.length > 0 || skipGroups.length > 0)) {
    throw new ConfigError("SKIP_UPGRADE_VALIDATION=ignore never honors the flag, so SKIP_UPGRADE_VALIDATION_USERS/_GROUPS can never apply: unset them, or use honor with the lists");
  }
  const clientCaFile = env.CLIENT_CA_FILE || undefined;
  if (clientCaFile) {
    readableFile("CLIENT_CA_FILE", clientCaFile);
    try {
      new X509Certificate(readFileSync(clientCaFile));
    } catch (error) {
      throw new ConfigError(`CLIENT_CA_FILE ${clientCaFile} is not a PEM certificate (${(error as Error).message})`);
    }
  }
  // The server watches the first file KUBECONFIG names (see cluster/config.ts): it must be there.
  const kubeconfig = (env.KUBECONFIG ?? "").split(delimiter).find((f) => f !== "");
  if (kubeconfig) readableFile("KUBECONFIG", kubeconfig);
  let severities: SeverityOverrides;
  try {
    severities = parseSeverityOverrides(env.RULE_SEVERITY);
  } catch (error) {
    if (error instanceof SeverityOverrideError) throw new ConfigError(`RULE_SEVERITY: ${error.message}`);
    throw error;
  }
  const deletionProtection = (env.DELETION_PROTECTION ?? "on").toLowerCase();
  if (deletionProtection !== "on" && deletionProtection !== "off") throw new ConfigError(`DELETION_PROTECTION must be on or off, got ${JSON.stringify(env.DELETION_PROTECTION)}`);
  const canaryDefaulting = (env.CANARY_DEFAULTING ?? "off").toLowerCase();
  if (canaryDefaulting !== "on" && canaryDefaulting !== "off") throw new ConfigError(`CANARY_DEFAULTING must be on or off, got ${JSON.stringify(env.CANARY_DEFAULTING)}`);
  const onDeadline = (env.ON_DEADLINE ?? "deny").toLowerCase();
  if (onDeadline !== "deny" && onDeadline !== "allow") throw new ConfigError(`ON_DEADLINE must be deny or allow, got ${JSON.stringify(env.ON_DEADLINE)}`);
  return {
    host: host(env),
    port,
    opsPort,
    tlsCertFile: env.TLS_CERT_FILE || "certs/tls.crt",
    tlsKeyFile: env.TLS_KEY_FILE || "certs/tls.key",
    tlsConfigured: Boolean(env.TLS_CERT_FILE || env.TLS_KEY_FILE),
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES, 6 * 1024 * 1024, 64 * 1024 * 1024),
    maxInFlightBytes: integer(env, "MAX_IN_FLIGHT_BYTES", DEFAULT_MAX_IN_FLIGHT_BYTES, 8 * 1024 * 1024, 1024 * 1024 * 1024),
    requestTimeoutMs: integer(env, "REQUEST_TIMEOUT_MS", 15_000, 1000, 600_000),
    logLevel,
    skipPolicy: { mode: skipMode, users: skipUsers, groups: skipGroups },
    clientCaFile,
    certReloadIntervalMs: integer(env, "CERT_RELOAD_INTERVAL_MS", 5000, 100, 3_600_000),
    keepAliveTimeoutMs: integer(env, "KEEP_ALIVE_TIMEOUT_MS", 120_000, 1000, 3_600_000),
    headersTimeoutMs: integer(env, "HEADERS_TIMEOUT_MS", 10_000, 1000, 600_000),
    shutdownDelayMs: integer(env, "SHUTDOWN_DELAY_MS", 0, 0, 600_000),
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 20_000, 0, 600_000),
    deadlineFraction: fraction(env, "DEADLINE_FRACTION", 0.5),
    onDeadline,
    events: events === "on",
    eventDedupWindowMs: integer(env, "EVENT_DEDUP_WINDOW_MS", 600_000, 0, 86_400_000),
    deletionProtection: deletionProtection === "on",
    canaryDefaulting: canaryDefaulting === "on",
    severities,
  };
}
