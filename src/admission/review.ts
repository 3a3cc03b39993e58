import { groupOfApiVersion, lifecycleKindOf } from "../lifecycle/kinds.js";
import { shown } from "../lifecycle/text.js";
import { isPlainObject, type JsonObject } from "../lifecycle/values.js";
import type { EngineInput } from "../rules/engine.js";

export const ADMISSION_V1 = "admission.k8s.io/v1";
export const ADMISSION_V1BETA1 = "admission.k8s.io/v1beta1";
const SUPPORTED_VERSIONS = new Set([ADMISSION_V1, ADMISSION_V1BETA1]);

/** The parts of an AdmissionRequest the webhook reads; everything else is ignored. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind?: { group?: string; version?: string; kind?: string };
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation?: string;
  readonly userInfo?: { username?: string; groups?: string[] };
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
  /** CreateOptions, UpdateOptions, PatchOptions or DeleteOptions; `fieldManager` names the client. */
  readonly options?: { readonly fieldManager?: unknown };
}

export interface AdmissionReview {
  readonly apiVersion: string;
  readonly request: AdmissionRequest;
}

export type DecodeResult = { readonly ok: true; readonly review: AdmissionReview } | { readonly ok: false; readonly message: string };

const fail = (message: string): DecodeResult => ({ ok: false, message });

/**
 * Checks the envelope of an AdmissionReview. A body that fails here is not a decision: the
 * server answers 400 and the API server applies the webhook's failurePolicy.
 */
export function decodeReview(body: unknown): DecodeResult {
  if (!isPlainObject(body)) return fail("request body must be a JSON AdmissionReview object");
  if (body.kind !== "AdmissionReview") return fail(`request body must be an AdmissionReview, got kind ${JSON.stringify(shown(String(body.kind ?? null), 32))}`);
  if (typeof body.apiVersion !== "string" || !SUPPORTED_VERSIONS.has(body.apiVersion)) {
    return fail(`unsupported AdmissionReview apiVersion ${JSON.stringify(shown(String(body.apiVersion ?? null), 40))}; expected ${ADMISSION_V1} or ${ADMISSION_V1BETA1}`);
  }
  const request = body.request;
  if (!isPlainObject(request)) return fail("AdmissionReview has no request");
  if (typeof request.uid !== "string" || request.uid === "") return fail("AdmissionReview request has no uid");
  // The API server sends a UUID; an answer must echo the uid, so a huge one would make a huge answer.
  if (request.uid.length > MAX_UID_LENGTH) return fail(`AdmissionReview request.uid is longer than ${MAX_UID_LENGTH} characters`);
  const review = { apiVersion: body.apiVersion, request: request as unknown as AdmissionRequest };
  const problem = lifecycleRequestProblem(review.request);
  return problem ? fail(problem) : { ok: true, review };
}

const MAX_UID_LENGTH = 256;

/** The operations the API server sends; case matters (it never sends "update"). */
const API_SERVER_OPERATIONS: ReadonlySet<unknown> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

/**
 * A review of a lifecycle manager that the API server would never send is not judged as if it
 * were real: reading an unknown operation as "not ours" or a missing oldObject as "nothing was
 * there" would let an unchecked change through.
 */
function lifecycleRequestProblem(request: AdmissionRequest): string | undefined {
  const { group, kind } = requestKind(request);
  if (!lifecycleKindOf(group, kind)) return undefined;
  if (!API_SERVER_OPERATIONS.has(request.operation)) {
    return `AdmissionReview request.operation must be CREATE, UPDATE, DELETE or CONNECT, got ${JSON.stringify(shown(String(request.operation ?? null), 32))}`;
  }
  if (request.operation === "UPDATE" && !isPlainObject(request.oldObject)) return "AdmissionReview of an UPDATE has no oldObject object";
  return undefined;
}

function stringOr(value: unknown, fallback: string | undefined): string | undefined {
  return typeof value === "string" ? value : fallback;
}

function metadataOf(object: unknown): JsonObject {
  return isPlainObject(object) && isPlainObject(object.metadata) ? object.metadata : {};
}

/**
 * Translates a request into the engine's input. The kind comes from `request.kind`; old v1beta1
 * senders and hand-made reviews may leave it out, so the object's own apiVersion/kind is the
 * fallback.
 */
/** The group and kind a request is about: request.kind, else the object's own apiVersion and kind. */
function requestKind(request: AdmissionRequest): { group: string | undefined; kind: string | undefined } {
  const kindRef = isPlainObject(request.kind) ? request.kind : undefined;
  const object = request.object ?? request.oldObject;
  const objectRecord = isPlainObject(object) ? object : {};
  return {
    group: kindRef && typeof kindRef.group === "string" ? kindRef.group : groupOfApiVersion(objectRecord.apiVersion),
    kind: kindRef && typeof kindRef.kind === "string" ? kindRef.kind : stringOr(objectRecord.kind, undefined),
  };
}

export function engineInputOf(request: AdmissionRequest): EngineInput {
  const object = request.object ?? request.oldObject;
  const { group, kind } = requestKind(request);
  const metadata = metadataOf(object);
  const userInfo = isPlainObject(request.userInfo) ? request.userInfo : undefined;
  return {
    operation: typeof request.operation === "string" ? request.operation : "",
    group,
    kind,
    namespace: stringOr(request.namespace, stringOr(metadata.namespace, "")) ?? "",
    name: stringOr(request.name, stringOr(metadata.name, stringOr(metadata.generateName, ""))) || "",
    subResource: typeof request.subResource === "string" ? request.subResource : "",
    oldObject: request.oldObject ?? null,
    newObject: request.object ?? null,
    ...(userInfo
      ? {
          user: {
            ...(typeof userInfo.username === "string" ? { username: userInfo.username } : {}),
            groups: Array.isArray(userInfo.groups) ? userInfo.groups.filter((g): g is string => typeof g === "string") : [],
          },
        }
      : {}),
  };
}
