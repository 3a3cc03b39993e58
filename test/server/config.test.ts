import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/server/config.js";

describe("server configuration", () => {
  it("has the documented defaults", () => {
    expect(loadConfig({})).toEqual({
      host: "0.0.0.0",
      port: 8443,
      opsPort: 8081,
      tlsCertFile: "certs/tls.crt",
      tlsKeyFile: "certs/tls.key",
      tlsConfigured: false,
      bodyLimitBytes: 7 * 1024 * 1024,
      maxInFlightBytes: 12 * 1024 * 1024,
      requestTimeoutMs: 15_000,
      logLevel: "info",
      skipPolicy: { mode: "honor", users: [], groups: [] },
      clientCaFile: undefined,
      certReloadIntervalMs: 5000,
      keepAliveTimeoutMs: 120_000,
      headersTimeoutMs: 10_000,
      shutdownDelayMs: 0,
      shutdownTimeoutMs: 20_000,
      deadlineFraction: 0.5,
      onDeadline: "deny",
      events: true,
      eventDedupWindowMs: 600_000,
      deletionProtection: true,
      canaryDefaulting: false,
      severities: new Map(),
    });
  });

  it("turns deletion protection off only with DELETION_PROTECTION=off, and refuses other values", () => {
    expect(loadConfig({ DELETION_PROTECTION: "off" }).deletionProtection).toBe(false);
    expect(loadConfig({ DELETION_PROTECTION: "on" }).deletionProtection).toBe(true);
    expect(() => loadConfig({ DELETION_PROTECTION: "no" })).toThrow(/DELETION_PROTECTION must be on or off/);
  });

  it("reads ports, certificate paths and the skip policy", () => {
    const config = loadConfig({
      PORT: "9443",
      OPS_PORT: "9090",
      TLS_CERT_FILE: "/etc/webhook/tls.crt",
      TLS_KEY_FILE: "/etc/webhook/tls.key",
      SKIP_UPGRADE_VALIDATION: "honor",
      SKIP_UPGRADE_VALIDATION_USERS: "alice, bob",
      SKIP_UPGRADE_VALIDATION_GROUPS: "platform-admins",
      LOG_LEVEL: "DEBUG",
    });
    expect(config).toMatchObject({ port: 9443, opsPort: 9090, tlsConfigured: true, logLevel: "debug", skipPolicy: { mode: "honor", users: ["alice", "bob"], groups: ["platform-admins"] } });
  });

  it.each([
    [{ PORT: "https" }, "PORT must be an integer"],
    [{ PORT: "70000" }, "PORT must be an integer from 0 to 65535"],
    [{ PORT: "8443", OPS_PORT: "8443" }, "PORT and OPS_PORT must differ"],
    [{ BODY_LIMIT_BYTES: "1048576" }, "BODY_LIMIT_BYTES must be an integer from 6291456"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL must be one of"],
    [{ SKIP_UPGRADE_VALIDATION: "sometimes" }, "SKIP_UPGRADE_VALIDATION must be honor or ignore"],
    [{ DEADLINE_FRACTION: "1.5" }, "DEADLINE_FRACTION must be a number from 0.1 to 0.95"],
    [{ ON_DEADLINE: "maybe" }, "ON_DEADLINE must be deny or allow"],
    [{ EVENTS: "sometimes" }, "EVENTS must be on or off"],
    [{ CERT_RELOAD_INTERVAL_MS: "10" }, "CERT_RELOAD_INTERVAL_MS must be an integer from 100"],
  ])("rejects %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("RULE_SEVERITY", () => {
  it("reads per-rule levels and refuses what the spec forbids, naming the variable", () => {
    expect([...loadConfig({ RULE_SEVERITY: "LG207=deny, lg304=off,LG401=warn" }).severities]).toEqual([
      ["LG207", "deny"],
      ["LG304", "off"],
      ["LG401", "warn"],
    ]);
    expect(() => loadConfig({ RULE_SEVERITY: "LG305=warn" })).toThrow(/RULE_SEVERITY: LG305 cannot be set to warn/);
    expect(() => loadConfig({ RULE_SEVERITY: "LG207" })).toThrow(/RULE_SEVERITY: "LG207" is not ID=LEVEL/);
  });
});
