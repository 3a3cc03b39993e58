import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { issueCertificate, type IssuedCertificate } from "../../src/certs/generate.js";

export interface TestPki {
  readonly ca: IssuedCertificate;
  /** A serving certificate for localhost/127.0.0.1 signed by `ca`. */
  issue(options?: { notBefore?: Date; notAfter?: Date; client?: boolean; commonName?: string; keyAlgorithm?: "ECDSA" | "RSA" }): Promise<IssuedCertificate>;
}

export async function testPki(): Promise<TestPki> {
  const ca = await issueCertificate({ commonName: "lifecycle-guard test CA", isCa: true });
  return {
    ca,
    issue: (options = {}) =>
      issueCertificate({
        commonName: options.commonName ?? (options.client ? "kube-apiserver" : "localhost"),
        hosts: options.client ? [] : ["localhost", "127.0.0.1"],
        issuer: ca,
        ...(options.client ? { client: true } : {}),
        ...(options.notBefore ? { notBefore: options.notBefore } : {}),
        ...(options.notAfter ? { notAfter: options.notAfter } : {}),
        ...(options.keyAlgorithm ? { keyAlgorithm: options.keyAlgorithm } : {}),
      }),
  };
}

let generation = 0;

/**
 * Writes `files` the way the kubelet updates a mounted Secret: into a new timestamped directory,
 * then an atomic rename of a fresh `..data` symlink onto the old one; `tls.crt` and `tls.key` are
 * symlinks through `..data` created once.
 */
export async function writeKubeletSecret(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const version = `..${new Date().toISOString().replace(/[:.]/g, "_")}.${process.pid}.${generation++}`;
  await mkdir(join(dir, version));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, version, name), content);
  const tmpLink = join(dir, "..data_tmp");
  await rm(tmpLink, { force: true });
  await symlink(version, tmpLink);
  await rename(tmpLink, join(dir, "..data"));
  for (const name of Object.keys(files)) {
    await symlink(join("..data", name), join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}
