import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { Logger } from "pino";

/** A certificate and key that were read, parsed and checked to belong together. */
export interface ServingCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly serialNumber: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hash of both files: a change of either means a new pair. */
  readonly fingerprint: string;
}

export class CertificateError extends Error {}

/** Identifies a pair by the content of both files: a change of either means a new pair. */
function fingerprintOf(cert: Buffer, key: Buffer): string {
  return createHash("sha256").update(cert).update("\u0000").update(key).digest("hex");
}

/** Parses a PEM pair and checks the key matches the (first) certificate. Throws CertificateError. */
export function parseServingCertificate(cert: Buffer, key: Buffer, source: string): ServingCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new CertificateError(`${source}: not a PEM certificate (${(error as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new CertificateError(`${source}: not a PEM private key (${(error as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new CertificateError(`${source}: the private key does not belong to the certificate`);
  return {
    cert,
    key,
    serialNumber: x509.serialNumber,
    subject: x509.subject.replace(/\n/g, ", "),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint: fingerprintOf(cert, key),
  };
}

export async function readServingCertificate(certFile: string, keyFile: string): Promise<ServingCertificate> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return parseServingCertificate(cert, key, `${certFile} / ${keyFile}`);
}

export interface CertificateWatcherOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly initial: ServingCertificate;
  /** Poll period: the safety net for changes a file watch misses. */
  readonly pollIntervalMs: number;
  readonly log: Logger;
  /** Installs a new pair for new TLS connections (https.Server#setSecureContext). */
  readonly apply: (certificate: ServingCertificate) => void;
  readonly onReload?: (result: "success" | "failure", certificate: ServingCertificate) => void;
}

/**
 * Keeps the served certificate in step with its files. The kubelet updates a mounted Secret by
 * writing a new timestamped directory and swapping the `..data` symlink, which a watch on the file
 * itself never sees; so the directory is watched *and* the files are polled. A pair that does not
 * parse, or whose key does not match, is ignored: the old one keeps serving and an error is logged.
 */
export class CertificateWatcher {
  private current: ServingCertificate;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private lastFailure: string | undefined;

  constructor(private readonly options: CertificateWatcherOptions) {
    this.current = options.initial;
  }

  get certificate(): ServingCertificate {
    return this.current;
  }

  start(): void {
    for (const dir of new Set([dirname(this.options.certFile), dirname(this.options.keyFile)])) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.scheduleCheck());
        watcher.on("error", (error) => this.options.log.warn({ err: error, dir }, "certificate directory watch failed; polling continues"));
        this.watchers.push(watcher);
      } catch (error) {
        this.options.log.warn({ err: error, dir }, "cannot watch the certificate directory; polling only");
      }
    }
    this.timer = setInterval(() => void this.check(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Several events arrive per swap; read once they settle. */
  private scheduleCheck(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), 200);
    this.debounce.unref();
  }

  /** Reads the files and switches to them if they changed and are valid. */
  check(): Promise<void> {
    this.checking ??= this.doCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async doCheck(): Promise<void> {
    const { certFile, keyFile, log } = this.options;
    let next: ServingCertificate;
    try {
      const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
      if (fingerprintOf(cert, key) === this.current.fingerprint) {
        this.lastFailure = undefined;
        return;
      }
      next = parseServingCertificate(cert, key, `${certFile} / ${keyFile}`);
      // createSecureContext is what the TLS server will do with it: fail here, not there.
      createSecureContext({ cert: next.cert, key: next.key } satisfies SecureContextOptions);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // One error per distinct problem, not one per poll.
      if (message !== this.lastFailure) {
        log.error({ certFile, keyFile, error: message, servingSerial: this.current.serialNumber }, "ignoring a changed serving certificate that cannot be used; the previous one keeps serving");
        this.options.onReload?.("failure", this.current);
      }
      this.lastFailure = message;
      return;
    }
    this.lastFailure = undefined;
    this.options.apply(next);
    const previous = this.current.serialNumber;
    this.current = next;
    log.info({ serial: next.serialNumber, previousSerial: previous, notAfter: next.notAfter.toISOString() }, "serving a new certificate");
    this.options.onReload?.("success", next);
  }
}
