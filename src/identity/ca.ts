// The local certificate authority. Like mkcert's, it is created on first use once per user, not per data dir,
// so a user trusts it once (`eventjobs ca trust`) and every eventjobs server they start is trusted.
// Files in the CA directory:
//   rootCA.pem      the CA certificate: what clients trust (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, system store)
//   rootCA-key.pem  the private key followed by the certificate, mode 0600; the source of truth
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, hostname, userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { writeFileAtomic } from "../files.js";
import forge from "node-forge";

export const CA_CERT_FILE = "rootCA.pem";
export const CA_KEY_FILE = "rootCA-key.pem";

const CA_YEARS = 10;
const KEY_BITS = 2048;

export class CaError extends Error {}

/** `$EVENTJOBS_CA_DIR`, else `$XDG_DATA_HOME/eventjobs/ca`, else `~/.local/share/eventjobs/ca`. */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EVENTJOBS_CA_DIR) return resolve(env.EVENTJOBS_CA_DIR);
  // the XDG spec says relative values are invalid and must be ignored
  const dataHome =
    env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(homedir(), ".local", "share");
  return join(dataHome, "eventjobs", "ca");
}

/** An RSA key pair from node:crypto (fast, native) as forge objects, for forge to put into certificates. */
export function newKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  keyPem: string;
} {
  // PEM straight from the generator: no KeyObject for node's key-generation job to share (see identity/tokens.ts)
  const { privateKey: keyPem, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: KEY_BITS,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    keyPem,
  };
}

/** forge writes PEM with CRLF line ends; keep files in the usual LF form. */
export function pemLf(pem: string): string {
  return pem.replace(/\r\n/g, "\n");
}

/** A random positive serial number (the top bit clear, so DER does not read it as negative). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString("hex");
}

export class LocalCa {
  /** the CA certificate file (public) */
  readonly certPath: string;
  readonly certPem: string;
  readonly x509: X509Certificate;
  /** SHA-256 of the certificate, `AB:CD:...` as openssl prints it */
  readonly fingerprint: string;
  readonly #keyPem: string;
  #forge?: { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate };

  constructor(
    readonly dir: string,
    keyPem: string,
    certPem: string,
  ) {
    this.certPath = join(dir, CA_CERT_FILE);
    this.certPem = certPem;
    this.x509 = new X509Certificate(certPem);
    this.fingerprint = this.x509.fingerprint256;
    // checked natively here; forge (slow in pure JS) parses them only when something is signed
    if (!this.x509.checkPrivateKey(createPrivateKey(keyPem))) throw new Error("the key does not match the certificate");
    this.#keyPem = keyPem;
  }

  get #forged(): { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate } {
    this.#forge ??= {
      key: forge.pki.privateKeyFromPem(this.#keyPem) as forge.pki.rsa.PrivateKey,
      cert: forge.pki.certificateFromPem(this.certPem),
    };
    return this.#forge;
  }

  /** A short stable id for file names (the system store entry): the first 8 hex digits of the fingerprint. */
  get shortId(): string {
    return this.fingerprint.replace(/:/g, "").slice(0, 8).toLowerCase();
  }

  /** Signs `cert` (whose subject, key, validity and extensions are set) as issued by this CA. */
  sign(cert: forge.pki.Certificate): void {
    cert.setIssuer(this.#forged.cert.subject.attributes);
    cert.sign(this.#forged.key, forge.md.sha256.create());
  }

  /** The CA's subject key identifier, for the authorityKeyIdentifier of the certificates it issues. */
  keyIdentifier(): string {
    return this.#forged.cert.generateSubjectKeyIdentifier().getBytes();
  }

  toString(): string {
    return `LocalCa(${this.certPath})`; // never the key
  }
}

/**
 * The user's CA, created if it does not exist yet. Safe when several processes do this at once: each writes
 * a complete key file under a temporary name and publishes it with link(2), which fails if the name exists, so
 * exactly one wins and the others read the winner's.
 */
export function ensureCa(dir = defaultCaDir()): LocalCa {
  const keyFile = join(dir, CA_KEY_FILE);
  let bundle: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    bundle = readIfExists(keyFile);
    if (bundle === undefined) {
      const tmp = join(dir, `.${CA_KEY_FILE}.${process.pid}.${randomBytes(4).toString("hex")}`);
      writeFileSync(tmp, createCaBundle(), { mode: 0o600 });
      try {
        publishExclusive(tmp, keyFile);
      } finally {
        rmSync(tmp, { force: true });
      }
      bundle = readFileSync(keyFile, "utf8");
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (!err.code) throw e;
    // e.g. a read-only home: say where, and how to put the CA elsewhere
    throw new CaError(
      `local CA in ${dir}: ${err.code} ${err.syscall ?? ""} ${err.path ?? ""} (set EVENTJOBS_CA_DIR to a writable directory)`.replace(
        /\s+/g,
        " ",
      ),
    );
  }
  const keyPem = bundle.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/)?.[0];
  const certPem = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)?.[0];
  if (!keyPem || !certPem)
    throw new CaError(
      `${keyFile}: not an eventjobs CA key file (expected a private key and a certificate); move it away to create a new CA`,
    );
  let ca: LocalCa;
  try {
    ca = new LocalCa(dir, keyPem, certPem);
  } catch (e) {
    throw new CaError(`${keyFile}: unreadable CA (${(e as Error).message}); move it away to create a new CA`);
  }
  // the public copy is derived from the key file, so racing writers write the same bytes
  if (readIfExists(ca.certPath) !== certPem) writeFileAtomic(ca.certPath, certPem, { mode: 0o644 });
  return ca;
}

/** A new self-signed CA: private key then certificate, PEM. */
function createCaBundle(): string {
  const { privateKey, publicKey, keyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000); // tolerate a little clock skew
  cert.validity.notAfter = new Date(now + CA_YEARS * 365 * 24 * 60 * 60 * 1000);
  let who = "user";
  try {
    who = `${userInfo().username}@${hostname()}`;
  } catch {
    /* no passwd entry (containers) */
  }
  const subject = [
    { name: "organizationName", value: "eventjobs development CA" },
    { name: "organizationalUnitName", value: who },
    { name: "commonName", value: `eventjobs ${who}` },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return keyPem + pemLf(forge.pki.certificateToPem(cert));
}

/** Makes `tmp` visible as `target` only if `target` does not exist yet; losing the race is fine. */
function publishExclusive(tmp: string, target: string): void {
  try {
    linkSync(tmp, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return; // another process created it first
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
      // a file system without hard links: rename is atomic but not exclusive (a racing creator may be replaced)
      renameSync(tmp, target);
      chmodSync(target, 0o600);
      return;
    }
    throw e;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
