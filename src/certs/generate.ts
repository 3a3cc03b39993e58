// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, webcrypto } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";

// Its types name the DOM `Crypto`, which a Node project does not load; Node's webcrypto is that API.
x509.cryptoProvider.set(webcrypto as never);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** RSA keys are for tests of what a server with an RSA certificate (a common choice) accepts. */
const RSA_ALGORITHM = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssuedCertificate extends KeyPairPem {
  readonly serialNumber: string;
  /** Kept in memory so tests can issue more certificates from the same CA. */
  readonly keys: webcrypto.CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

export interface CertificateOptions {
  readonly commonName: string;
  /** DNS names and IP addresses for subjectAltName. */
  readonly hosts?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Sign with this CA; self-signed CA when absent. */
  readonly issuer?: IssuedCertificate;
  readonly isCa?: boolean;
  /** clientAuth instead of serverAuth, for mTLS tests. */
  readonly client?: boolean;
  /** The key of this certificate; ECDSA P-256 unless RSA is asked for. */
  readonly keyAlgorithm?: "ECDSA" | "RSA";
}

async function exportKey(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

const withNewline = (pem: string): string => (pem.endsWith("\n") ? pem : `${pem}\n`);

export async function issueCertificate(options: CertificateOptions): Promise<IssuedCertificate> {
  const own = options.keyAlgorithm === "RSA" ? RSA_ALGORITHM : ALGORITHM;
  const keys = (await webcrypto.subtle.generateKey(own, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const serialNumber = `01${randomBytes(15).toString("hex")}`;
  const notBefore = options.notBefore ?? new Date(Date.now() - 5 * 60 * 1000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY_MS);
  const name = `CN=${options.commonName}`;
  const extensions: x509.Extension[] = [];
  if (options.isCa) {
    extensions.push(new x509.BasicConstraintsExtension(true, 0, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true));
    extensions.push(new x509.ExtendedKeyUsageExtension([options.client ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]));
  }
  const hosts = options.hosts ?? [];
  if (hosts.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h }))));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));

  const certificate = options.issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: name,
        issuer: options.issuer.certificate.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
        signingAlgorithm: options.issuer.keys.privateKey.algorithm.name === "ECDSA" ? ALGORITHM : RSA_ALGORITHM,
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(options.issuer.certificate)],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber, name, notBefore, notAfter, keys, signingAlgorithm: own, extensions });

  return { certPem: withNewline(certificate.toString("pem")), keyPem: withNewline(await exportKey(keys)), serialNumber, keys, certificate };
}

export interface DevCertificateFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Writes a development CA and a serving certificate for localhost under `dir`, so a fresh clone
 * serves HTTPS with `npm start`. Clients trust it with the CA file (`curl --cacert certs/ca.crt`).
 * The CA key is not kept: a new CA is made whenever the certificates are regenerated.
 */
export async function writeDevCertificates(dir: string, hosts: readonly string[] = ["localhost", "127.0.0.1", "::1"]): Promise<DevCertificateFiles> {
  const ca = await issueCertificate({ commonName: "lifecycle-guard development CA", isCa: true });
  const leaf = await issueCertificate({ commonName: hosts[0] ?? "localhost", hosts, issuer: ca, notAfter: new Date(Date.now() + 90 * DAY_MS) });
  await mkdir(dir, { recursive: true });
  const files = { caFile: join(dir, "ca.crt"), certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
  await writeFile(files.caFile, ca.certPem, { mode: 0o644 });
  await writeFile(files.certFile, leaf.certPem + ca.certPem, { mode: 0o644 });
  await writeFile(files.keyFile, leaf.keyPem, { mode: 0o600 });
  return files;
}
