import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

export interface Readiness {
  /** Why the server is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
}

/**
 * The plain-HTTP operations listener: liveness, readiness and metrics. It is a separate listener
 * so probes and scrapes never compete with the API server's TLS connections.
 */
export async function buildOpsApp(logger: Logger, readiness: Readiness, metrics?: Metrics): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) }) as unknown as FastifyInstance;
  app.get("/healthz", async (_request, reply) => reply.type("text/plain; charset=utf-8").send("ok\n"));
  app.get("/readyz", async (_request, reply) => {
    const reason = readiness.notReadyReason();
    if (reason) return reply.code(503).type("text/plain; charset=utf-8").send(`not ready: ${reason}\n`);
    return reply.type("text/plain; charset=utf-8").send("ok\n");
  });
  if (metrics) {
    app.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  }
  app.setNotFoundHandler((request, reply) => reply.code(404).type("text/plain; charset=utf-8").send(`not found: ${request.method} ${request.url.split("?")[0]}\n`));
  return app;
}
