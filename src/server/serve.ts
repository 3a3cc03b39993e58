import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import type { EngineOptions } from "../rules/engine.js";
import { buildWebhookApp } from "./app.js";
import type { ServerConfig } from "./config.js";
import { buildOpsApp } from "./ops.js";
import { loadTlsMaterial } from "./tls.js";

export interface RunningServer {
  readonly webhook: FastifyInstance;
  readonly ops: FastifyInstance;
  /** The ports actually bound (differs from the config when it asked for 0). */
  readonly port: number;
  readonly opsPort: number;
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "lifecycle-guard" }, timestamp: pino.stdTimeFunctions.isoTime });
}

function boundPort(app: FastifyInstance): number {
  const address = app.server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

export async function startServer(config: ServerConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  let serving = false;
  const engineOptions: EngineOptions = { skipPolicy: config.skipPolicy };
  const ops = await buildOpsApp(logger, { notReadyReason: () => (serving ? undefined : "the HTTPS listener is not serving yet") });
  await ops.listen({ host: config.host, port: config.opsPort });

  let webhook: FastifyInstance;
  try {
    const tls = await loadTlsMaterial(config, logger);
    webhook = await buildWebhookApp({ logger, bodyLimitBytes: config.bodyLimitBytes, tls, engineOptions: () => engineOptions });
    await webhook.listen({ host: config.host, port: config.port });
  } catch (error) {
    await ops.close();
    throw error;
  }
  serving = true;

  const port = boundPort(webhook);
  const opsPort = boundPort(ops);
  logger.info({ port, opsPort, certFile: config.tlsCertFile, skipPolicy: config.skipPolicy.mode }, "lifecycle-guard is serving");
  return {
    webhook,
    ops,
    port,
    opsPort,
    async close() {
      serving = false;
      await webhook.close();
      await ops.close();
    },
  };
}
