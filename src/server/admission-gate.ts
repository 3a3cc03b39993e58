import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * What a request must be before its body is read: JSON in UTF-8, not compressed, and small
 * enough to fit beside the bodies already in flight. Decided from the headers alone, so a
 * refused request costs nothing: its body is never buffered.
 */
export interface GateOptions {
  /** Body bytes being received or decided at once; past it a request gets 429 (see README). */
  readonly maxInFlightBytes: number;
  /** Charged for a body without Content-Length (chunked): it may be that large. */
  readonly bodyLimitBytes: number;
  readonly onRefused?: (status: number) => void;
}

const UTF8 = new Set(["utf-8", "utf8"]);

function refuse(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type("text/plain; charset=utf-8").send(`${message}\n`);
}

/** Why the headers alone rule the request out (415), or undefined. */
export function encodingProblem(request: Pick<FastifyRequest, "headers">): string | undefined {
  const encoding = request.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return `unsupported Content-Encoding ${JSON.stringify(String(encoding).slice(0, 40))}: send the AdmissionReview uncompressed`;
  }
  const type = request.headers["content-type"] ?? "";
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(type)?.[1];
  if (charset !== undefined && !UTF8.has(charset.toLowerCase())) return `unsupported charset ${JSON.stringify(charset.slice(0, 40))}: send the AdmissionReview as UTF-8 JSON`;
  return undefined;
}

/** Installs the gate on the routes of `app` (an encapsulated plugin: only the webhook routes). */
export function installAdmissionGate(app: FastifyInstance, options: GateOptions): void {
  let inFlight = 0;
  const charged = new WeakMap<FastifyRequest, number>();
  const release = (request: FastifyRequest): void => {
    const bytes = charged.get(request);
    if (bytes === undefined) return;
    charged.delete(request);
    inFlight -= bytes;
  };
  app.addHook("onRequest", (request, reply, done) => {
    if (request.method !== "POST") return done();
    const problem = encodingProblem(request);
    if (problem) {
      options.onRefused?.(415);
      refuse(reply, 415, problem);
      return;
    }
    const declared = Number(request.headers["content-length"]);
    const bytes = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, options.bodyLimitBytes) : options.bodyLimitBytes;
    // One request is always let in, so a lone large review is never refused for its own size.
    if (inFlight > 0 && inFlight + bytes > options.maxInFlightBytes) {
      options.onRefused?.(429);
      refuse(reply, 429, `lifecycle-guard is busy: ${Math.round(inFlight / 1048576)} MiB of reviews are in flight; retry`, { "retry-after": "1" });
      return;
    }
    inFlight += bytes;
    charged.set(request, bytes);
    // However the request ends (answered, aborted, cut by the request timeout), its bytes return.
    request.raw.once("close", () => release(request));
    done();
  });
}
