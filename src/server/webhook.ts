import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { encodeMutation, encodeResponse } from "../admission/response.js";
import { decodeReview, engineInputOf, type AdmissionReview } from "../admission/review.js";
import { canaryDefaulting } from "../mutation/canary-defaulting.js";
import { escapeText, shown } from "../lifecycle/text.js";
import { evaluate, type Decision, type EngineOptions } from "../rules/engine.js";
import { installAdmissionGate, type GateOptions } from "./admission-gate.js";
import { DEFAULT_TIMEOUT_MS, parseGoDuration } from "./deadline.js";

export const VALIDATE_PATH = "/validate";
export const MUTATE_PATH = "/mutate";

export interface DecisionRecord {
  readonly uid: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: string;
  readonly dryRun: boolean;
  /** The object's apiVersion and uid, for Events that point at it. */
  readonly apiVersion: string;
  readonly objectUid: string | undefined;
  readonly decision: Decision;
  /** The answer sent, which differs from decision.allowed when the deadline policy allows. */
  readonly allowed: boolean;
  readonly durationMs: number;
}

export interface WebhookOptions {
  /** Engine options per request, so policy and cluster state can change while serving. */
  readonly engineOptions: () => EngineOptions;
  /** Called after each decision (metrics, events); must not throw. */
  readonly onDecision?: (record: DecisionRecord) => void;
  /** Called for a body that is not an AdmissionReview (400). */
  readonly onRejected?: (status: number) => void;
  /** Share of the API server's ?timeout= to use, and the answer when it runs out. */
  readonly deadline?: { readonly fraction: number; readonly onDeadline: "deny" | "allow" };
  /** Serve POST /mutate (canary defaulting). Off unless its webhook is installed too. */
  readonly canaryDefaulting?: boolean;
  /** Bounds what is read: see admission-gate.ts. Absent in tests that do not exercise it. */
  readonly gate?: GateOptions;
}

const OTHER_METHODS = ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;

function methodNotAllowed(reply: FastifyReply, path: string): FastifyReply {
  return reply.code(405).header("allow", "POST").type("text/plain; charset=utf-8").send(`method not allowed: ${path} takes POST with an AdmissionReview\n`);
}

const elapsedMs = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;
const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

function objectMeta(object: unknown): { apiVersion: string; uid: string | undefined } {
  const o = (object ?? {}) as { apiVersion?: unknown; metadata?: { uid?: unknown } };
  return { apiVersion: typeof o.apiVersion === "string" ? o.apiVersion : "", uid: typeof o.metadata?.uid === "string" ? o.metadata.uid : undefined };
}

/**
 * The validating webhook: decode the review, ask the engine, encode the answer. Everything that
 * decides lives in the engine; this plugin only speaks the protocol.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app: FastifyInstance, options) => {
  // A text/plain body is not an AdmissionReview: let it fall to 415 rather than reach the handler.
  app.removeContentTypeParser(["text/plain"]);
  if (options.gate) installAdmissionGate(app, options.gate);

  /** Both routes take the same envelope: a body that is not an AdmissionReview is a plain 400. */
  const decodeOrReject = (request: FastifyRequest, reply: FastifyReply): AdmissionReview | undefined => {
    const decoded = decodeReview(request.body);
    if (decoded.ok) return decoded.review;
    options.onRejected?.(400);
    request.log.info({ reason: decoded.message }, "rejected a request that is not an AdmissionReview");
    void reply.code(400).type("text/plain; charset=utf-8").send(`${decoded.message}\n`);
    return undefined;
  };

  app.post(VALIDATE_PATH, async (request, reply) => {
    const started = process.hrtime.bigint();
    const review = decodeOrReject(request, reply);
    if (!review) return reply;
    const input = engineInputOf(review.request);
    // The API server gives up after ?timeout=; answering well before it keeps the answer ours.
    const timeoutMs = parseGoDuration((request.query as Record<string, string | undefined>).timeout) ?? DEFAULT_TIMEOUT_MS;
    const fraction = options.deadline?.fraction ?? 0.5;
    const budgetMs = timeoutMs * fraction;
    const dueAt = performance.now() + budgetMs - reply.elapsedTime;
    let decision: Decision;
    try {
      decision = evaluate(input, { ...options.engineOptions(), deadlinePassed: () => performance.now() >= dueAt });
    } catch (error) {
      // evaluate() already turns a rule's exception into a decision; this guards the rest.
      decision = { allowed: false, findings: [], denials: [], warnings: [], bypassed: [], failure: { rule: "engine", error: error instanceof Error ? error.message : String(error) } };
    }
    const kind = input.kind ?? "";
    const meta = objectMeta(review.request.object ?? review.request.oldObject);
    const response = encodeResponse(review, decision, {
      kind,
      name: input.name ?? "",
      deadline: { onDeadline: options.deadline?.onDeadline ?? "deny", budgetMs, timeoutMs },
    });
    const durationMs = elapsedMs(started);
    const record: DecisionRecord = {
      uid: review.request.uid,
      kind,
      namespace: input.namespace ?? "",
      name: input.name ?? "",
      operation: input.operation,
      dryRun: review.request.dryRun === true,
      apiVersion: meta.apiVersion,
      objectUid: meta.uid,
      decision,
      allowed: response.response.allowed,
      durationMs,
    };
    const line = {
      uid: shown(record.uid),
      kind: shown(record.kind),
      namespace: shown(record.namespace),
      name: shown(record.name),
      operation: shown(record.operation, 16),
      dryRun: record.dryRun,
      decision: response.response.allowed ? "allowed" : "denied",
      rules: response.response.auditAnnotations.rules,
      durationMs: roundMs(durationMs),
    };
    if (decision.failure) request.log.error({ ...line, failedRule: decision.failure.rule, error: decision.failure.error }, "admission decision");
    else if (decision.deadlineExceeded) request.log.warn({ ...line, deadlineExceeded: true, budgetMs, ...decision.deadlineExceeded }, "admission decision");
    else request.log.info(line, "admission decision");
    if (request.log.level === "debug" || request.log.level === "trace") {
      request.log.debug({ uid: line.uid, findings: decision.findings.slice(0, 100).map((f) => ({ rule: f.rule, field: escapeText(f.field), message: escapeText(f.message) })) }, "admission findings");
    }
    options.onDecision?.(record);
    return reply.type("application/json; charset=utf-8").send(response);
  });

  const served = options.canaryDefaulting ? [VALIDATE_PATH, MUTATE_PATH] : [VALIDATE_PATH];
  if (options.canaryDefaulting) app.post(MUTATE_PATH, async (request, reply) => {
    const started = process.hrtime.bigint();
    const review = decodeOrReject(request, reply);
    if (!review) return reply;
    const input = engineInputOf(review.request);
    const mutation = canaryDefaulting(input);
    const response = encodeMutation(review, mutation.patch, mutation.warnings, mutation.patch.length > 0 ? ["LG206"] : []);
    request.log.info(
      {
        uid: shown(review.request.uid),
        kind: shown(input.kind ?? ""),
        namespace: shown(input.namespace ?? ""),
        name: shown(input.name ?? ""),
        operation: shown(input.operation, 16),
        dryRun: review.request.dryRun === true,
        patched: mutation.patch.length > 0,
        operations: mutation.patch.length,
        durationMs: roundMs(elapsedMs(started)),
      },
      "admission mutation",
    );
    return reply.type("application/json; charset=utf-8").send(response);
  });
  for (const url of served) app.route({ method: [...OTHER_METHODS], url, handler: (_request, reply) => methodNotAllowed(reply, url) });
};
