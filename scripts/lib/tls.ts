/**
 * @module tls — a self-signed certificate for local HTTPS/WSS/RTMPS (dev stack and tests): made
 * with openssl once, reused while it is valid and matches its key, made again when it expires.
 * Never for production: there, TLS_CERT_FILE/TLS_KEY_FILE name a real certificate.
 */
import { spawnSync } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export interface SelfSignedCert {
  certFile: string
  keyFile: string
  /** false when a still-valid certificate from an earlier run was reused */
  generated: boolean
  validTo: Date
}

export interface SelfSignedOptions {
  /** default 365 */
  days?: number
  /** Regenerate when fewer than this many ms of validity are left; default one day. */
  renewBeforeMs?: number
  /** default Date.now(): pass a later time to see what an expired certificate does */
  now?: number
}

const DAY_MS = 86_400_000

/** Names a browser, Node and ffmpeg check against when connecting to the dev stack. */
const SUBJECT_ALT_NAMES = 'DNS:localhost,IP:127.0.0.1,IP:::1'

/** The certificate's expiry, or null if the pair is missing, unreadable or does not belong together. */
function usableUntil(certFile: string, keyFile: string): Date | null {
  if (!existsSync(certFile) || !existsSync(keyFile)) return null
  try {
    const cert = new X509Certificate(readFileSync(certFile))
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))) return null
    return new Date(cert.validTo)
  } catch {
    return null
  }
}

/**
 * `<dir>/cert.pem` and `<dir>/key.pem` (P-256, CN=localhost, SAN localhost/127.0.0.1/::1). Both
 * are written under temporary names and renamed, so a crash never leaves a half pair; the key is
 * readable by its owner only.
 */
export function ensureSelfSignedCert(dir: string, opts: SelfSignedOptions = {}): SelfSignedCert {
  const days = opts.days ?? 365
  const now = opts.now ?? Date.now()
  const renewBeforeMs = opts.renewBeforeMs ?? DAY_MS
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')

  const existing = usableUntil(certFile, keyFile)
  if (existing && existing.getTime() - now > renewBeforeMs) {
    return { certFile, keyFile, generated: false, validTo: existing }
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const tmpCert = `${certFile}.${process.pid}.tmp`
  const tmpKey = `${keyFile}.${process.pid}.tmp`
  // -nodes: no passphrase, nginx starts unattended.
  const res = spawnSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', tmpKey, '-out', tmpCert, '-days', String(days)],
      ...['-subj', '/CN=localhost', '-addext', `subjectAltName=${SUBJECT_ALT_NAMES}`],
    ],
    { encoding: 'utf8' },
  )
  if (res.error || res.status !== 0) {
    rmSync(tmpCert, { force: true })
    rmSync(tmpKey, { force: true })
    const why = res.error ? res.error.message : res.stderr.trim()
    throw new Error(`could not create a self-signed certificate with openssl: ${why}`)
  }
  chmodSync(tmpKey, 0o600)
  renameSync(tmpKey, keyFile)
  renameSync(tmpCert, certFile)
  const validTo = usableUntil(certFile, keyFile)
  if (!validTo) throw new Error(`openssl wrote an unusable certificate in ${dir}`)
  return { certFile, keyFile, generated: true, validTo }
}

export interface TlsFiles {
  certFile: string
  keyFile: string
  /** true for the generated dev certificate, which browsers and OBS do not trust */
  selfSigned: boolean
  /** true when the self-signed pair was (re)made by this call */
  generated: boolean
}

/**
 * The certificate `npm run dev` serves HTTPS_PORT/RTMPS_PORT with: TLS_CERT_FILE/TLS_KEY_FILE when
 * given (both, or neither), else a self-signed pair under `dir`. Undefined when no TLS port is set.
 */
export function devTlsFiles(
  env: NodeJS.ProcessEnv,
  dir: string,
  opts: SelfSignedOptions = {},
): TlsFiles | undefined {
  if (!env.HTTPS_PORT && !env.RTMPS_PORT) return undefined
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = env
  if (certFile && keyFile) return { certFile, keyFile, selfSigned: false, generated: false }
  if (certFile || keyFile)
    throw new Error('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither for a self-signed one')
  const made = ensureSelfSignedCert(dir, opts)
  return { certFile: made.certFile, keyFile: made.keyFile, selfSigned: true, generated: made.generated }
}
