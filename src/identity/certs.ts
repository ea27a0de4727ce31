// TLS server certificates issued by the local CA for every name a client may connect to: localhost, the
// loopback addresses and each namespace's host names (SDKs check the certificate against the FQDN they are
// given). Kept in one file per data dir, and per set of names in the CA dir (server-certs/) for other data dirs;
// issued again when the names change or the expiry nears.
import { X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import forge from "node-forge";
import { newKeyPair, pemLf, randomSerial, type LocalCa } from "./ca.js";

/** 397 days: the longest validity that browsers and Apple platforms accept for a server certificate. */
const VALID_DAYS = 397;
/** issue a new one when less than this is left */
const RENEW_DAYS = 30;
const DAY = 24 * 60 * 60 * 1000;

export interface ServerCert {
  /** PKCS#8 PEM; never printed */
  key: string;
  /** the server certificate, PEM */
  cert: string;
  /** DNS names and IP addresses it covers, normalised */
  names: string[];
  notAfter: Date;
}

/**
 * The names the server certificate must cover: localhost, loopback, `*.localhost`, and per namespace `<ns>`,
 * `<ns>.localhost`, `<ns>.servicebus.windows.net`.
 */
export function serverNames(namespaces: Iterable<string>, extra: string[] = []): string[] {
  const names = new Set(["localhost", "*.localhost", "127.0.0.1", "::1"]);
  for (const raw of namespaces) {
    const ns = raw.toLowerCase();
    names.add(ns).add(`${ns}.localhost`).add(`${ns}.servicebus.windows.net`);
  }
  // e.g. the --host address, when it is a specific one (a wildcard listen address is no name to connect to)
  for (const e of extra) if (e && e !== "0.0.0.0" && e !== "::") names.add(normalizeName(e));
  return [...names].map(normalizeName);
}

/** The DNS names and IP addresses in a certificate's subjectAltName, normalised like `serverNames`. */
export function certificateNames(x509: X509Certificate): string[] {
  const out: string[] = [];
  for (const part of (x509.subjectAltName ?? "").split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(part.trim());
    if (m) out.push(normalizeName(m[2].replace(/^"|"$/g, "")));
  }
  return out;
}

function normalizeName(name: string): string {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  // IPv6 has many spellings (::1, 0:0:0:0:0:0:0:1); the URL parser gives the canonical one
  return isIP(n) === 6 ? new URL(`http://[${n}]/`).hostname.slice(1, -1) : n;
}

const issued = new Map<string, ServerCert>(); // per process: in-memory platforms and tests start many servers

/**
 * A server certificate from `ca` covering exactly `names`: the one in `file` if it still fits (same CA, same
 * names, not near expiry), otherwise a new one, written to `file` (mode 0600, via a temporary name).
 */
export function ensureServerCert(ca: LocalCa, names: string[], file?: string, now = new Date()): ServerCert {
  const wanted = [...new Set(names.map(normalizeName))].sort();
  const memoKey = `${ca.fingerprint}|${wanted.join(",")}`;
  if (file) {
    const existing = readServerCert(file);
    if (existing && fits(existing, ca, wanted, now)) return existing;
  }
  let cert = issued.get(memoKey);
  if (!cert || !fits(cert, ca, wanted, now)) {
    // another process may have issued one for these names (every test file starts servers on fresh data dirs):
    // the CA dir keeps the last per set of names, beside the CA key that could issue it anyway
    const shared = join(
      ca.dir,
      "server-certs",
      `${createHash("sha256").update(memoKey).digest("hex").slice(0, 32)}.pem`,
    );
    const cached = readServerCert(shared);
    cert = cached && fits(cached, ca, wanted, now) ? cached : issueServerCert(ca, wanted, now);
    if (cert !== cached) {
      try {
        writeFileAtomic(shared, cert.key + cert.cert, { dirMode: 0o700 });
      } catch {
        // a read-only CA dir: each process issues its own
      }
    }
    issued.set(memoKey, cert);
  }
  if (file) {
    writeFileAtomic(file, cert.key + cert.cert, { dirMode: 0o700 });
  }
  return cert;
}

/** Issues a new server certificate for `names` (DNS names and IP addresses). */
export function issueServerCert(ca: LocalCa, names: string[], now = new Date()): ServerCert {
  const { publicKey, keyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + VALID_DAYS * DAY);
  const dns = names.filter((n) => !isIP(n));
  cert.setSubject([
    { name: "organizationName", value: "eventjobs development certificate" },
    { name: "commonName", value: dns[0] ?? names[0] ?? "localhost" },
  ]);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: ca.keyIdentifier() },
  ]);
  ca.sign(cert);
  const pem = pemLf(forge.pki.certificateToPem(cert));
  return {
    key: keyPem,
    cert: pem,
    names: certificateNames(new X509Certificate(pem)),
    notAfter: cert.validity.notAfter,
  };
}

function readServerCert(file: string): ServerCert | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const key = text.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/)?.[0];
  const cert = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)?.[0];
  if (!key || !cert) return undefined;
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    return { key, cert, names: certificateNames(x509), notAfter: new Date(x509.validTo) };
  } catch {
    return undefined; // unreadable: issue a new one
  }
}

function fits(c: ServerCert, ca: LocalCa, wanted: string[], now: Date): boolean {
  if (c.notAfter.getTime() - now.getTime() < RENEW_DAYS * DAY) return false;
  const have = [...new Set(c.names)].sort();
  if (have.length !== wanted.length || have.some((n, i) => n !== wanted[i])) return false;
  const x509 = new X509Certificate(c.cert);
  return x509.checkIssued(ca.x509) && x509.verify(ca.x509.publicKey) && new Date(x509.validFrom) <= now;
}
