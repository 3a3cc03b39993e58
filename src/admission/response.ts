import type { Decision } from "../rules/engine.js";
import type { Finding } from "../rules/types.js";
import type { AdmissionReview } from "./review.js";
import { capText, escapeText, shown } from "../lifecycle/text.js";
import { shapeWarnings } from "./warnings.js";

export interface StatusCause {
  readonly reason: string;
  readonly field: string;
  readonly message: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: {
    readonly metadata: Record<string, never>;
    readonly status: "Failure";
    readonly code: number;
    readonly reason: string;
    readonly message: string;
    readonly details?: { readonly group: string; readonly kind: string; readonly name: string; readonly causes: readonly StatusCause[] };
  };
  readonly warnings?: readonly string[];
  readonly auditAnnotations: { readonly decision: "allowed" | "denied"; readonly rules: string };
  /** Mutating answers only. */
  readonly patchType?: "JSONPatch";
  readonly patch?: string;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: string;
  readonly kind: "AdmissionReview";
  readonly response: AdmissionResponse;
}

/** Kubernetes cause types: what kubectl shows before the message (`Invalid value`, `Duplicate value`, `Forbidden`). */
const CAUSE_TYPE: Record<string, string> = {
  LG301: "FieldValueDuplicate",
  LG302: "FieldValueDuplicate",
  LG303: "FieldValueInvalid",
  LG305: "FieldValueInvalid",
};

/** A cause message has its fix in about 200 characters; this bounds the rare long one. */
const MAX_CAUSE_CHARACTERS = 480;
const MAX_FIELD_CHARACTERS = 240;
/** At most this many causes; past it the last one says how many more there were. */
export const MAX_CAUSES = 20;
/** Bounds the message (which repeats every cause) well under 64 KiB even with escaped values. */
const MAX_MESSAGE_CHARACTERS = 16 * 1024;

/** One cause per deny finding; the message names where the full explanation is. */
export function causeOf(finding: Finding): StatusCause {
  return {
    reason: CAUSE_TYPE[finding.rule] ?? "FieldValueForbidden",
    field: capText(escapeText(finding.field), MAX_FIELD_CHARACTERS),
    message: `${capText(escapeText(finding.message), MAX_CAUSE_CHARACTERS)} (lifecycle-guard rules ${finding.rule})`,
  };
}

/** The causes of a denial, at most MAX_CAUSES: the last one then counts the rest (including those no rule kept). */
export function causesOf(denials: readonly Finding[], omitted = 0): StatusCause[] {
  if (denials.length <= MAX_CAUSES && omitted === 0) return denials.map(causeOf);
  const shownCauses = denials.slice(0, MAX_CAUSES - 1).map(causeOf);
  const rest = denials.slice(MAX_CAUSES - 1);
  const ids = [...new Set(rest.map((f) => f.rule))].sort().join(", ");
  shownCauses.push({
    reason: "FieldValueForbidden",
    field: capText(escapeText(rest[0]?.field ?? ""), MAX_FIELD_CHARACTERS),
    message: `and ${rest.length + omitted} more problems (${ids}); fix these and the rest follow the same way.`,
  });
  return shownCauses;
}

/** Extra warnings the shell adds (e.g. "cluster cache not synced"); they follow the findings. */
export interface ResponseExtras {
  readonly kind: string;
  readonly name: string;
  readonly extraWarnings?: readonly string[];
  /** How to answer when the engine ran out of time, and the budget it had. */
  readonly deadline?: { readonly onDeadline: "deny" | "allow"; readonly budgetMs: number; readonly timeoutMs: number };
}

export function ruleIds(decision: Decision): string[] {
  const ids = new Set(decision.findings.map((f) => f.rule));
  if (decision.failure) ids.add(decision.failure.rule);
  return [...ids].sort();
}

const seconds = (ms: number): string => `${Math.round(ms) / 1000}s`;

/**
 * The one client that needs `reason: Invalid`: kubectl edit reopens the editor with the causes as
 * comments only for Invalid (k8s.io/kubectl cmd/util/editor/editoptions.go). Every other client
 * must not get it: kubectl apply --force (cmd/apply/patcher.go), Argo CD's Force=true and Flux's
 * force (fluxcd/pkg ssa IsImmutableError) read Invalid or Conflict as "immutable field" and
 * DELETE then re-CREATE the object, which for a lifecycle manager uninstalls its control planes.
 */
export const EDITOR_FIELD_MANAGER = "kubectl-edit";

export function denialStatusFor(fieldManager: unknown): { readonly code: 422 | 403; readonly reason: "Invalid" | "Forbidden" } {
  return fieldManager === EDITOR_FIELD_MANAGER ? { code: 422, reason: "Invalid" } : { code: 403, reason: "Forbidden" };
}

/**
 * Flux also treats an error whose text matches `is\simmutable` or `immutable\sfield` as an
 * immutable-field error, whatever its reason; values copied from an object could spell either.
 * Writing the word's first letter as an escape keeps it readable and matches neither.
 */
export function neutraliseImmutable(text: string): string {
  return text.replace(/immutable/gi, (word) => `\\u${word.charCodeAt(0).toString(16).padStart(4, "0")}${word.slice(1)}`);
}

/** Most clients print only the message: it carries every cause, rule ids included. */
function denialMessage(kind: string, name: string, causes: readonly StatusCause[]): string {
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join("; ");
  return capText(`${shown(kind)} "${shown(name)}" was denied by lifecycle-guard: ${summary}`, MAX_MESSAGE_CHARACTERS);
}

/** Encodes a decision as the AdmissionReview the API server expects, in the request's version. */
export function encodeResponse(review: AdmissionReview, decision: Decision, extras: ResponseExtras): AdmissionReviewResponse {
  const warnings = shapeWarnings([...decision.warnings.map((f) => f.message), ...(decision.notices ?? []), ...(extras.extraWarnings ?? [])]);
  const rules = ruleIds(decision).join(",");
  const base = {
    uid: review.request.uid,
    allowed: decision.allowed,
    ...(warnings.length > 0 ? { warnings } : {}),
    auditAnnotations: { decision: decision.allowed ? "allowed" : "denied", rules } as const,
  };
  let response: AdmissionResponse = base;
  if (decision.deadlineExceeded) {
    const budget = extras.deadline ?? { onDeadline: "deny" as const, budgetMs: 0, timeoutMs: 0 };
    const why = `lifecycle-guard could not decide within ${seconds(budget.budgetMs)} (its share of the API server's ${seconds(budget.timeoutMs)} timeout)`;
    if (budget.onDeadline === "allow") {
      const warnings = shapeWarnings([`${why}: this change was NOT checked against the upgrade rules.`]);
      response = { uid: review.request.uid, allowed: true, warnings, auditAnnotations: { decision: "allowed", rules: "" } };
    } else {
      response = {
        uid: review.request.uid,
        allowed: false,
        auditAnnotations: { decision: "denied", rules: "" },
        status: { metadata: {}, status: "Failure", code: 504, reason: "Timeout", message: `${why}, so the change was not checked and is denied. Retry it; if this persists, the webhook is overloaded.` },
      };
    }
  } else if (decision.failure) {
    response = {
      ...base,
      allowed: false,
      status: {
        metadata: {},
        status: "Failure",
        code: 500,
        reason: "InternalError",
        message: `lifecycle-guard could not check this change: rule ${decision.failure.rule} failed (${shown(decision.failure.error, 200)}). The change was not applied; report this as a bug.`,
      },
    };
  } else if (!decision.allowed) {
    const causes = causesOf(decision.denials, decision.omittedDenials);
    response = {
      ...base,
      status: {
        metadata: {},
        status: "Failure",
        ...denialStatusFor(review.request.options?.fieldManager),
        message: denialMessage(extras.kind, extras.name, causes),
        details: { group: decision.kind?.group ?? "", kind: shown(extras.kind), name: shown(extras.name), causes },
      },
    };
  }
  return { apiVersion: review.apiVersion, kind: "AdmissionReview", response: response.status ? { ...response, status: neutraliseStatus(response.status) } : response };
}

type DenialStatus = NonNullable<AdmissionResponse["status"]>;

/**
 * Every text a client shows or matches on, passed through one last time in one place so that no
 * path can forget it: no control, bidi or separator character, and never "immutable".
 */
const finalText = (text: string): string => neutraliseImmutable(escapeText(text));

function neutraliseStatus(status: DenialStatus): DenialStatus {
  const details = status.details;
  return {
    ...status,
    message: finalText(status.message),
    ...(details ? { details: { ...details, causes: details.causes.map((c) => ({ reason: c.reason, field: finalText(c.field), message: finalText(c.message) })) } } : {}),
  };
}

/**
 * A mutating answer: always allowed (judging is the validating webhook's job), with a JSON Patch
 * only when there is something to change. patchType and patch come together or not at all.
 */
export function encodeMutation(review: AdmissionReview, patch: readonly unknown[], warningTexts: readonly string[], rules: readonly string[]): AdmissionReviewResponse {
  const warnings = shapeWarnings(warningTexts);
  return {
    apiVersion: review.apiVersion,
    kind: "AdmissionReview",
    response: {
      uid: review.request.uid,
      allowed: true,
      ...(patch.length > 0 ? { patchType: "JSONPatch" as const, patch: Buffer.from(JSON.stringify(patch)).toString("base64") } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      auditAnnotations: { decision: "allowed", rules: [...new Set(rules)].sort().join(",") },
    },
  };
}
