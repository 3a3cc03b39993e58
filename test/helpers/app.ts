import type { FastifyInstance } from "fastify";
import type { EngineOptions } from "../../src/rules/engine.js";
import { buildWebhookApp } from "../../src/server/app.js";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../src/server/config.js";
import { capturedLogger } from "./logs.js";

export interface TestApp {
  readonly app: FastifyInstance;
  /** Every JSON log line the app wrote. */
  readonly logs: Record<string, unknown>[];
}

/** The webhook application with an in-memory log, for `inject` tests. */
export async function webhookTestApp(engineOptions: EngineOptions = {}, level = "info", options: { canaryDefaulting?: boolean } = {}): Promise<TestApp> {
  const { logger, lines: logs } = capturedLogger(level);
  const app = await buildWebhookApp({ logger, bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES, engineOptions: () => engineOptions, canaryDefaulting: options.canaryDefaulting ?? false });
  return { app, logs };
}
