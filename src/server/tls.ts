import { access } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { readServingCertificate, type ServingCertificate } from "./certificates.js";
import type { ServerConfig } from "./config.js";

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Loads the serving certificate. When neither TLS_CERT_FILE nor TLS_KEY_FILE is set and the
 * default files are missing, a development CA and certificate are generated so a fresh clone
 * serves HTTPS; a configured path that is missing is an error (a cluster must never fall back to
 * a made-up certificate).
 */
export async function loadServingCertificate(config: ServerConfig, log: Logger): Promise<ServingCertificate> {
  const [haveCert, haveKey] = await Promise.all([exists(config.tlsCertFile), exists(config.tlsKeyFile)]);
  if (!haveCert || !haveKey) {
    if (config.tlsConfigured) {
      const missing = [!haveCert && `TLS_CERT_FILE ${config.tlsCertFile}`, !haveKey && `TLS_KEY_FILE ${config.tlsKeyFile}`].filter(Boolean).join(" and ");
      throw new Error(`cannot read ${missing}`);
    }
    // The certificate generator (and its X.509 library) is loaded only when it is needed.
    const { writeDevCertificates } = await import("../certs/generate.js");
    const files = await writeDevCertificates(dirname(config.tlsCertFile));
    log.warn(
      { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile },
      `generated a development certificate for localhost; trust it with the CA file ${files.caFile} (for example curl --cacert ${files.caFile})`,
    );
  }
  return readServingCertificate(config.tlsCertFile, config.tlsKeyFile);
}
