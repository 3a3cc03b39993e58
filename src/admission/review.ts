import { groupOfApiVersion } from "../lifecycle/kinds.js";
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
  if (body.kind !== "AdmissionReview") return fail(`request body must be an AdmissionReview, got kind ${JSON.stringify(body.kind ?? null)}`);
  if (typeof body.apiVersion !== "string" || !SUPPORTED_VERSIONS.has(body.apiVersion)) {
    return fail(`unsupported AdmissionReview apiVersion ${JSON.stringify(body.apiVersion ?? null)}; expected ${ADMISSION_V1} or ${ADMISSION_V1BETA1}`);
  }
  const request = body.request;
  if (!isPlainObject(request)) return fail("AdmissionReview has no request");
  if (typeof request.uid !== "string" || request.uid === "") return fail("AdmissionReview request has no uid");
  return { ok: true, review: { apiVersion: body.apiVersion, request: request as unknown as AdmissionRequest } };
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
export function engineInputOf(request: AdmissionRequest): EngineInput {
  const object = request.object ?? request.oldObject;
  const kindRef = isPlainObject(request.kind) ? request.kind : undefined;
  const objectRecord = isPlainObject(object) ? object : {};
  const group = kindRef && typeof kindRef.group === "string" ? kindRef.group : groupOfApiVersion(objectRecord.apiVersion);
  const kind = kindRef && typeof kindRef.kind === "string" ? kindRef.kind : stringOr(objectRecord.kind, undefined);
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
