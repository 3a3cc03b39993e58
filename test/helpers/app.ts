import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import type { EngineOptions } from "../../src/rules/engine.js";
import { buildWebhookApp } from "../../src/server/app.js";
import { DEFAULT_BODY_LIMIT_BYTES } from "../../src/server/config.js";

export interface TestApp {
  readonly app: FastifyInstance;
  /** Every JSON log line the app wrote. */
  readonly logs: Record<string, unknown>[];
}

/** The webhook application with an in-memory log, for `inject` tests. */
export async function webhookTestApp(engineOptions: EngineOptions = {}, level = "info"): Promise<TestApp> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = await buildWebhookApp({ logger: pino({ level }, sink), bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES, engineOptions: () => engineOptions });
  return { app, logs };
}
