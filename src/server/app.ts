import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { TlsMaterial } from "./tls.js";
import { webhookRoutes, type WebhookOptions } from "./webhook.js";

export interface WebhookAppOptions extends WebhookOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Serve HTTPS with this certificate; plain HTTP when absent (tests that use inject). */
  readonly tls?: TlsMaterial;
}

function plainMessage(error: FastifyError, bodyLimitBytes: number): string {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported Content-Type: send the AdmissionReview as application/json";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return `request body is larger than ${bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`;
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "request body is empty: send an AdmissionReview";
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "request body is not valid JSON";
    default:
      return error.statusCode === 400 ? `request body is not valid JSON: ${error.message}` : error.message;
  }
}

/**
 * The HTTPS application that serves the webhook. Protocol errors get a short plain-text answer
 * with the status the API server understands as "failed call" (400/413/415), never a stack.
 */
export async function buildWebhookApp(options: WebhookAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: "TLSv1.2" as const } } : {}),
  }) as unknown as FastifyInstance;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ status, code: error.code }, "rejected a malformed request");
    return reply
      .code(status)
      .type("text/plain; charset=utf-8")
      .send(`${status >= 500 ? "internal error" : plainMessage(error, options.bodyLimitBytes)}\n`);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).type("text/plain; charset=utf-8").send(`not found: ${request.method} ${request.url.split("?")[0]}\n`));

  await app.register(webhookRoutes, { engineOptions: options.engineOptions, ...(options.onDecision ? { onDecision: options.onDecision } : {}) });
  return app;
}
