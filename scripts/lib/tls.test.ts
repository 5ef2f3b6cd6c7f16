/** Unit tests for ensureSelfSignedCert: generates with openssl, reuses, and regenerates when expired or broken. */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { devTlsFiles, ensureSelfSignedCert } from './tls.js'

const DAY_MS = 86_400_000
const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-test-'))
  dirs.push(dir)
  return join(dir, 'tls') // does not exist yet: the module creates it
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('ensureSelfSignedCert', () => {
  it('generates a P-256 certificate for localhost and 127.0.0.1, valid for the given days, with a private key file', () => {
    const dir = tempDir()
    const before = Date.now()
    const got = ensureSelfSignedCert(dir, { days: 30 })
    expect(got).toMatchObject({
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
      generated: true,
    })

    const cert = new X509Certificate(readFileSync(got.certFile))
    expect(cert.subject).toBe('CN=localhost')
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(cert.checkHost('localhost')).toBe('localhost')
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    const key = createPrivateKey(readFileSync(got.keyFile))
    expect(cert.checkPrivateKey(key)).toBe(true)
    const lifetime = Date.parse(cert.validTo) - before
    expect(lifetime).toBeGreaterThan(29 * DAY_MS)
    expect(lifetime).toBeLessThan(31 * DAY_MS)
    expect(got.validTo.getTime()).toBe(Date.parse(cert.validTo))
    expect(statSync(got.keyFile).mode & 0o777).toBe(0o600)
  })

  it('reuses a valid certificate and key unchanged', () => {
    const dir = tempDir()
    const first = ensureSelfSignedCert(dir)
    const pem = readFileSync(first.certFile, 'utf8')
    const again = ensureSelfSignedCert(dir)
    expect(again).toMatchObject({ generated: false, validTo: first.validTo })
    expect(readFileSync(again.certFile, 'utf8')).toBe(pem)
  })

  it('regenerates a certificate that has expired or expires within a day', () => {
    const dir = tempDir()
    const first = ensureSelfSignedCert(dir, { days: 10 })
    const pem = readFileSync(first.certFile, 'utf8')
    // Nine and a half days on, half a day of validity is left: renewed.
    const renewed = ensureSelfSignedCert(dir, { days: 10, now: Date.now() + 9.5 * DAY_MS })
    expect(renewed.generated).toBe(true)
    expect(readFileSync(renewed.certFile, 'utf8')).not.toBe(pem)
    // Long past the new one's end: renewed again.
    const later = ensureSelfSignedCert(dir, { now: Date.now() + 400 * DAY_MS })
    expect(later.generated).toBe(true)
  })

  it('regenerates when the key does not belong to the certificate or a file is unreadable', () => {
    const dir = tempDir()
    const first = ensureSelfSignedCert(dir)
    const other = ensureSelfSignedCert(`${dir}-other`)
    dirs.push(`${dir}-other`)
    writeFileSync(first.keyFile, readFileSync(other.keyFile))
    expect(ensureSelfSignedCert(dir).generated).toBe(true)
    writeFileSync(first.certFile, 'not a certificate')
    const fixed = ensureSelfSignedCert(dir)
    expect(fixed.generated).toBe(true)
    expect(
      new X509Certificate(readFileSync(fixed.certFile)).checkPrivateKey(
        createPrivateKey(readFileSync(fixed.keyFile)),
      ),
    ).toBe(true)
  })
})

describe('devTlsFiles', () => {
  it('is off without a TLS port', () => {
    expect(devTlsFiles({ HTTP_PORT: '8080' }, tempDir())).toBeUndefined()
  })

  it('generates a self-signed pair for HTTPS_PORT or RTMPS_PORT without certificate files, then reuses it', () => {
    const dir = tempDir()
    expect(devTlsFiles({ HTTPS_PORT: '8443' }, dir)).toEqual({
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
      selfSigned: true,
      generated: true,
    })
    expect(devTlsFiles({ RTMPS_PORT: '1936' }, dir)).toMatchObject({ selfSigned: true, generated: false })
  })

  it('uses the operator’s files as they are and refuses only one of them', () => {
    const dir = tempDir()
    const files = { TLS_CERT_FILE: '/etc/tls/fullchain.pem', TLS_KEY_FILE: '/etc/tls/privkey.pem' }
    expect(devTlsFiles({ HTTPS_PORT: '8443', ...files }, dir)).toEqual({
      certFile: files.TLS_CERT_FILE,
      keyFile: files.TLS_KEY_FILE,
      selfSigned: false,
      generated: false,
    })
    expect(() => devTlsFiles({ RTMPS_PORT: '1936', TLS_CERT_FILE: files.TLS_CERT_FILE }, dir)).toThrow(
      /TLS_CERT_FILE and TLS_KEY_FILE/,
    )
  })
})
