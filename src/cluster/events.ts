import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { CoreV1Api, type CoreV1Event, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";

export const REASON_DENIED = "UpgradeValidationDenied";
export const REASON_WARNING = "UpgradeValidationWarning";
/** The API server keeps event messages short; kubectl describe shows them whole up to this. */
const MAX_MESSAGE = 1024;

/** What an Event needs to know about an answered review. */
export interface AnsweredReview {
  readonly dryRun: boolean;
  readonly allowed: boolean;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  /** Cause messages of a denial, or warnings of an allowed review; each starts with its rule id. */
  readonly messages: readonly string[];
}

export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<void>;
}

export function apiEventSink(kubeConfig: KubeConfig): EventSink {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    create: async (namespace, body) => {
      await api.createNamespacedEvent({ namespace, body });
    },
  };
}

export interface EventRecorderOptions {
  readonly sink: EventSink;
  readonly log: Logger;
  /** The same event for the same object is recorded at most once per window. */
  readonly dedupWindowMs: number;
  readonly reportingInstance?: string;
  readonly onResult?: (reason: string, result: "created" | "deduplicated" | "failed") => void;
}

/**
 * Argo CD and Flux show neither admission warnings nor (often) the full denial; an Event on the
 * object shows up in their UIs and in `kubectl describe`. Recorded after the answer was sent,
 * never for dry runs (the webhook's sideEffects is NoneOnDryRun), and deduplicated so that a
 * GitOps sync loop retrying the same change every few seconds writes one Event, not thousands.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(private readonly options: EventRecorderOptions) {}

  record(review: AnsweredReview): void {
    if (review.dryRun || review.messages.length === 0 || !review.namespace || !review.name) return;
    const reason = review.allowed ? REASON_WARNING : REASON_DENIED;
    const message = truncate(`${review.allowed ? "Allowed with warnings" : "Denied"} by lifecycle-guard: ${review.messages.join(" | ")}`, MAX_MESSAGE);
    const key = createHash("sha256").update([review.namespace, review.name, reason, message].join("\u0000")).digest("hex");
    const now = Date.now();
    this.prune(now);
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.options.dedupWindowMs) {
      this.options.onResult?.(reason, "deduplicated");
      return;
    }
    this.recent.set(key, now);
    const timestamp = new Date(now);
    const event: CoreV1Event = {
      metadata: { generateName: `${review.name}.`, namespace: review.namespace },
      involvedObject: {
        apiVersion: review.apiVersion,
        kind: review.kind,
        name: review.name,
        namespace: review.namespace,
        ...(review.uid ? { uid: review.uid } : {}),
      },
      reason,
      message,
      type: "Warning",
      source: { component: "lifecycle-guard" },
      reportingComponent: "lifecycle-guard",
      reportingInstance: this.options.reportingInstance ?? hostname(),
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
    };
    // Off the answer's path: the review has been answered before this runs.
    setImmediate(() => {
      this.options.sink.create(review.namespace, event).then(
        () => this.options.onResult?.(reason, "created"),
        (error: unknown) => {
          // Let the next attempt through rather than suppressing an event that was never written.
          this.recent.delete(key);
          this.options.onResult?.(reason, "failed");
          this.options.log.warn({ err: error instanceof Error ? { message: error.message } : error, namespace: review.namespace, name: review.name, reason }, "could not record an Event");
        },
      );
    });
  }

  private prune(now: number): void {
    if (this.recent.size < 1000) return;
    for (const [key, at] of this.recent) if (now - at >= this.options.dedupWindowMs) this.recent.delete(key);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
