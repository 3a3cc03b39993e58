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
}

export class ConfigError extends Error {}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const logLevel = (env.LOG_LEVEL ?? "info").toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${[...LOG_LEVELS].join(", ")}, got ${JSON.stringify(env.LOG_LEVEL)}`);
  const skipMode = (env.SKIP_UPGRADE_VALIDATION ?? "honor").toLowerCase();
  if (skipMode !== "honor" && skipMode !== "ignore") throw new ConfigError(`SKIP_UPGRADE_VALIDATION must be honor or ignore, got ${JSON.stringify(env.SKIP_UPGRADE_VALIDATION)}`);
  const port = integer(env, "PORT", 8443, 0, 65535);
  const opsPort = integer(env, "OPS_PORT", 8081, 0, 65535);
  if (port !== 0 && port === opsPort) throw new ConfigError(`PORT and OPS_PORT must differ (both ${port})`);
  return {
    host: env.HOST || "0.0.0.0",
    port,
    opsPort,
    tlsCertFile: env.TLS_CERT_FILE || "certs/tls.crt",
    tlsKeyFile: env.TLS_KEY_FILE || "certs/tls.key",
    tlsConfigured: Boolean(env.TLS_CERT_FILE || env.TLS_KEY_FILE),
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT_BYTES, 8 * 1024 * 1024, 1024 * 1024 * 1024),
    logLevel,
    skipPolicy: {
      mode: skipMode,
      users: list(env.SKIP_UPGRADE_VALIDATION_USERS),
      groups: list(env.SKIP_UPGRADE_VALIDATION_GROUPS),
    },
  };
}
