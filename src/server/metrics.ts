import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DecisionRecord } from "./webhook.js";

const KIND_LABELS: ReadonlySet<string> = new Set(["IstioLifecycleManager", "GatewayLifecycleManager"]);
const OPERATION_LABELS: ReadonlySet<string> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

/** Buckets from 50 µs: a typical decision takes well under a millisecond. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics, served on the operations port. A registry of its own (not prom-client's
 * global one) so that every server instance, and every test, counts separately.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: "lifecycle_guard_admission_requests_total",
    help: "Admission reviews answered, by object kind, operation, decision and dry run.",
    labelNames: ["kind", "operation", "decision", "dry_run"] as const,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: "lifecycle_guard_admission_duration_seconds",
    help: "Time from receiving a review to sending its answer (body parsing, rules and encoding).",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly findings = new Counter({
    name: "lifecycle_guard_findings_total",
    help: "Rule findings in answered reviews, by rule id and severity.",
    labelNames: ["rule", "severity"] as const,
    registers: [this.registry],
  });

  private readonly ruleErrors = new Counter({
    name: "lifecycle_guard_rule_errors_total",
    help: "Reviews denied because a rule threw, by rule id.",
    labelNames: ["rule"] as const,
    registers: [this.registry],
  });

  private readonly deadlines = new Counter({
    name: "lifecycle_guard_deadline_exceeded_total",
    help: "Reviews answered without a decision because the API server's timeout was near, by the answer given.",
    labelNames: ["answer"] as const,
    registers: [this.registry],
  });

  private readonly badRequests = new Counter({
    name: "lifecycle_guard_bad_requests_total",
    help: "Requests rejected before a decision (not an AdmissionReview, wrong content type, too large), by HTTP status.",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });

  readonly certificateNotAfter = new Gauge({
    name: "lifecycle_guard_tls_certificate_not_after_seconds",
    help: "Expiry (Unix time) of the serving certificate currently in use.",
    registers: [this.registry],
  });

  private readonly certificateReloads = new Counter({
    name: "lifecycle_guard_tls_certificate_reloads_total",
    help: "Attempts to load a changed serving certificate, by result.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  readonly cacheSynced = new Gauge({
    name: "lifecycle_guard_cluster_cache_synced",
    help: "1 when the cluster cache of a kind is listed and watching, 0 while it (re)connects.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly cacheObjects = new Gauge({
    name: "lifecycle_guard_cluster_cache_objects",
    help: "Objects of a kind in the cluster cache.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly cacheRestarts = new Counter({
    name: "lifecycle_guard_cluster_cache_restarts_total",
    help: "Times a cluster watch failed and was restarted with a fresh list.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: "lifecycle_guard_events_total",
    help: "Kubernetes Events for answered reviews, by reason and result (created, deduplicated, failed).",
    labelNames: ["reason", "result"] as const,
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: "lifecycle_guard_draining",
    help: "1 while the server drains after SIGTERM.",
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  recordDecision(record: DecisionRecord): void {
    const decision = record.decision;
    const answer = record.allowed ? "allowed" : "denied";
    // Labels from closed sets only: a request's kind and operation are whatever the caller wrote.
    this.requests.inc({ kind: KIND_LABELS.has(record.kind) ? record.kind : "other", operation: OPERATION_LABELS.has(record.operation) ? record.operation : "other", decision: answer, dry_run: String(record.dryRun) });
    for (const finding of decision.findings) this.findings.inc({ rule: finding.rule, severity: finding.severity });
    if (decision.failure) this.ruleErrors.inc({ rule: decision.failure.rule });
    if (decision.deadlineExceeded) this.deadlines.inc({ answer });
  }

  observeLatency(seconds: number): void {
    this.duration.observe(seconds);
  }

  /** The cluster cache reports here. */
  readonly cacheObserver = {
    synced: (kind: string, objects: number): void => {
      this.cacheSynced.set({ kind }, 1);
      this.cacheObjects.set({ kind }, objects);
    },
    lost: (kind: string): void => {
      this.cacheSynced.set({ kind }, 0);
      this.cacheRestarts.inc({ kind });
    },
    changed: (kind: string, objects: number): void => {
      this.cacheObjects.set({ kind }, objects);
    },
  };

  recordBadRequest(status: number): void {
    this.badRequests.inc({ status: String(status) });
  }

  recordCertificateReload(result: "success" | "failure"): void {
    this.certificateReloads.inc({ result });
  }
}
