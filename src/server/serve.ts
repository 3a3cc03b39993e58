import type { FastifyInstance } from "fastify";
import { readFile } from "node:fs/promises";
import type { Server as HttpsServer } from "node:https";
import { Server as NetServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { pino, type Logger } from "pino";
import type { ClusterCache } from "../cluster/cache.js";
import { hasClusterConnection, NO_CONNECTION_REASON } from "../cluster/connection-hint.js";
import type { EventRecorder } from "../cluster/events.js";
import type { EngineOptions } from "../rules/engine.js";
import { buildWebhookApp, secureContextOptions } from "./app.js";
import { CertificateWatcher, type ServingCertificate } from "./certificates.js";
import { ConfigError, type ServerConfig } from "./config.js";
import { Metrics } from "./metrics.js";
import { buildOpsApp } from "./ops.js";
import { loadServingCertificate } from "./tls.js";
import type { DecisionRecord } from "./webhook.js";

export interface RunningServer {
  readonly webhook: FastifyInstance;
  readonly ops: FastifyInstance;
  readonly metrics: Metrics;
  /** The ports actually bound (differs from the config when it asked for 0). */
  readonly port: number;
  readonly opsPort: number;
  /** The certificate new TLS connections get. */
  currentCertificate(): ServingCertificate;
  /** SIGTERM: stop being ready, close pooled connections, finish in-flight reviews, stop. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOverrides {
  /** Extra engine options (tests inject rules). */
  readonly engineOptions?: () => EngineOptions;
  /** Where the cluster connection comes from; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * JSON logs to stdout through pino's asynchronous, buffered destination: one write per 4 KiB of
 * lines instead of one synchronous write per decision, which profiling showed on the hot path.
 * A timer flushes at least every 250 ms so a quiet server's lines are not held back, and
 * `flushLogs` writes out the rest before the process exits.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 250);
  timer.unref();
  const logger = pino({ level, base: { service: "lifecycle-guard" }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  flushers.set(logger, () => {
    clearInterval(timer);
    destination.flushSync();
  });
  return logger;
}

const flushers = new WeakMap<Logger, () => void>();

/** Writes out buffered log lines; call before exiting. */
export function flushLogs(logger: Logger): void {
  try {
    flushers.get(logger)?.();
  } catch {
    // stdout is gone: nothing left to tell anyone.
  }
}

/** A listener that cannot bind says which settings to look at, not a stack trace. */
async function listenOrExplain(app: FastifyInstance, host: string, port: number, portVariable: string): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot listen on HOST ${host} ${portVariable} ${port}: ${code ?? (error as Error).message}`);
  }
}

/** Between closing the listener and closing idle connections: time for requests on the wire. */
const CLOSE_GRACE_MS = 250;

function boundPort(app: FastifyInstance): number {
  const address = app.server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** Turns an answered review into an Event: the denial's causes, or the warnings. */
function eventFor(recorder: EventRecorder): (record: DecisionRecord) => void {
  return (record) => {
    const decision = record.decision;
    const messages = record.allowed ? [...decision.warnings.map((f) => f.message)] : decision.denials.map((f) => `${f.field}: ${f.message}`);
    recorder.record({
      dryRun: record.dryRun,
      allowed: record.allowed,
      apiVersion: record.apiVersion,
      kind: record.kind,
      namespace: record.namespace,
      name: record.name,
      uid: record.objectUid,
      messages,
    });
  };
}

function certificateProblem(certificate: ServingCertificate, now = Date.now()): string | undefined {
  if (now >= certificate.notAfter.getTime()) return `the serving certificate (serial ${certificate.serialNumber}) expired at ${certificate.notAfter.toISOString()}`;
  if (now < certificate.notBefore.getTime()) return `the serving certificate (serial ${certificate.serialNumber}) is not valid before ${certificate.notBefore.toISOString()}`;
  return undefined;
}

export async function startServer(config: ServerConfig, logger: Logger = createLogger(config.logLevel), overrides: ServerOverrides = {}): Promise<RunningServer> {
  const metrics = new Metrics();
  const state = { serving: false, draining: false };
  let watcher: CertificateWatcher | undefined;

  const ops = await buildOpsApp(
    logger,
    {
      notReadyReason: () => {
        if (state.draining) return "draining after SIGTERM";
        if (!state.serving || !watcher) return "the HTTPS listener is not serving yet";
        return certificateProblem(watcher.certificate);
      },
    },
    metrics,
  );
  await listenOrExplain(ops, config.host, config.opsPort, "OPS_PORT");

  // The cluster cache and Events are optional: without a connection the server judges each
  // object alone. /readyz never waits for the cache.
  const env = overrides.env ?? process.env;
  let cache: ClusterCache | undefined;
  let recorder: EventRecorder | undefined;
  // @kubernetes/client-node costs ~80 MiB and half a second to load: only load it when needed.
  const connection = hasClusterConnection(env)
    ? (await import("../cluster/config.js")).loadClusterConnection(env)
    : { kubeConfig: undefined, reason: NO_CONNECTION_REASON };
  if (connection.kubeConfig) {
    const { ClusterCache } = await import("../cluster/cache.js");
    const { apiEventSink, EventRecorder } = await import("../cluster/events.js");
    cache = new ClusterCache(connection.kubeConfig, logger, { observer: metrics.cacheObserver });
    cache.start();
    if (config.events) {
      recorder = new EventRecorder({
        sink: apiEventSink(connection.kubeConfig),
        log: logger,
        dedupWindowMs: config.eventDedupWindowMs,
        ...(env.POD_NAME ? { reportingInstance: env.POD_NAME } : {}),
        onResult: (reason, result) => metrics.events.inc({ reason, result }),
      });
    }
    logger.info({ source: connection.source, events: Boolean(recorder) }, "cluster cache starting: LG501-LG503 are evaluated once it has synced");
  } else {
    logger.info({ reason: connection.reason }, "cluster cache off: LG501-LG503 are not evaluated and no Events are recorded");
  }

  let webhook: FastifyInstance;
  try {
    const initial = await loadServingCertificate(config, logger);
    const clientCa = config.clientCaFile ? await readFile(config.clientCaFile) : undefined;
    const baseEngineOptions: EngineOptions = { skipPolicy: config.skipPolicy, deletionProtection: config.deletionProtection, severities: config.severities, ...(cache ? { cluster: cache.view, clusterAware: true } : {}) };
    webhook = await buildWebhookApp({
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      tls: { cert: initial.cert, key: initial.key, ...(clientCa ? { clientCa } : {}) },
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      maxInFlightBytes: config.maxInFlightBytes,
      isDraining: () => state.draining,
      metrics,
      deadline: { fraction: config.deadlineFraction, onDeadline: config.onDeadline },
      canaryDefaulting: config.canaryDefaulting,
      ...(recorder ? { onDecision: eventFor(recorder) } : {}),
      engineOptions: overrides.engineOptions ? () => ({ ...baseEngineOptions, ...overrides.engineOptions?.() }) : () => baseEngineOptions,
    });
    await listenOrExplain(webhook, config.host, config.port, "PORT");
    const httpsServer = webhook.server as unknown as HttpsServer;
    watcher = new CertificateWatcher({
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
      initial,
      pollIntervalMs: config.certReloadIntervalMs,
      log: logger,
      apply: (next) => httpsServer.setSecureContext(secureContextOptions({ cert: next.cert, key: next.key, ...(clientCa ? { clientCa } : {}) })),
      onReload: (result, certificate) => {
        metrics.recordCertificateReload(result);
        metrics.certificateNotAfter.set(certificate.notAfter.getTime() / 1000);
      },
    });
    metrics.certificateNotAfter.set(initial.notAfter.getTime() / 1000);
    watcher.start();
    const problem = certificateProblem(initial);
    if (problem) logger.error({ notAfter: initial.notAfter.toISOString() }, `${problem}; /readyz reports not ready until it is replaced`);
  } catch (error) {
    await cache?.stop();
    await ops.close();
    throw error;
  }
  state.serving = true;

  const port = boundPort(webhook);
  const opsPort = boundPort(ops);
  logger.info(
    { port, opsPort, certFile: config.tlsCertFile, serial: watcher.certificate.serialNumber, mtls: Boolean(config.clientCaFile), skipPolicy: config.skipPolicy.mode },
    "lifecycle-guard is serving",
  );

  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      state.draining = true;
      metrics.draining.set(1);
      const server = webhook.server;
      logger.info({ delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs }, "draining: not ready, answering with Connection: close, then closing");
      // Endpoints take a moment to drop this pod. Meanwhile every response carries
      // Connection: close, so each pooled connection ends cleanly after its next answer. Closing
      // idle sockets right away instead races clients writing their next request on them.
      if (config.shutdownDelayMs > 0) await delay(config.shutdownDelayMs);
      // Stop accepting. The net-level close leaves open connections alone (Node's HTTP close would
      // kill idle ones at once, including a connection whose request is still on the wire); it
      // calls back once every connection has ended.
      const allEnded = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      // Requests already sent arrive within the grace and are answered (with Connection: close);
      // what is still idle after it is closed.
      await delay(CLOSE_GRACE_MS);
      server.closeIdleConnections();
      const finishedInTime = await Promise.race([allEnded.then(() => true), delay(config.shutdownTimeoutMs).then(() => false)]);
      if (!finishedInTime) {
        logger.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight reviews did not finish in time; closing their connections");
        server.closeAllConnections();
        await allEnded;
      }
      // Runs Fastify's onClose hooks; the listener is already closed.
      await webhook.close();
      watcher?.stop();
      await cache?.stop();
      await ops.close();
      logger.info("drained");
    })();
    return draining;
  };

  return {
    webhook,
    ops,
    metrics,
    port,
    opsPort,
    currentCertificate: () => (watcher as CertificateWatcher).certificate,
    drain,
    close: drain,
  };
}
