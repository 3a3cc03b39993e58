import { loadConfig } from "../../src/server/config.js";
import { startServer, type RunningServer, type ServerOverrides } from "../../src/server/serve.js";
import { capturedLogger } from "./logs.js";

export interface TestServer {
  readonly server: RunningServer;
  readonly logs: Record<string, unknown>[];
}

/** Starts the real server (HTTPS + ops) on ephemeral loopback ports with a captured log. */
export async function startTestServer(env: Record<string, string>, overrides: ServerOverrides = {}): Promise<TestServer> {
  const { logger, lines: logs } = capturedLogger();
  const config = loadConfig({ PORT: "0", OPS_PORT: "0", HOST: "127.0.0.1", ...env });
  // No cluster connection unless the test gives one: never a developer's real KUBECONFIG.
  const server = await startServer(config, logger, { env: {}, ...overrides });
  return { server, logs };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}
