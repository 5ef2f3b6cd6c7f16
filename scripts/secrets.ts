/**
 * `npm run secrets`: creates what docker-compose.yml needs and git must never see — `.env` with a
 * hook secret, the webhook secrets' encryption key, `secrets/jwt-ed25519.pem`, and a self-signed TLS pair in `secrets/tls/` to replace
 * with a real certificate. Existing files are kept.
 */
import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { exportPKCS8, generateKeyPair } from 'jose'
import { ensureSelfSignedCert } from './lib/tls.js'

if (!existsSync('.env')) {
  writeFileSync(
    '.env',
    `HOOK_SECRET=${randomBytes(32).toString('base64url')}\nPOSTGRES_PASSWORD=${randomBytes(18).toString('base64url')}\n`,
    { mode: 0o600 },
  )
  console.log('wrote .env')
} else console.log('.env exists, kept')
// Added to an existing .env too: webhook signing secrets are encrypted with it (docs/webhooks.md).
if (!/^WEBHOOK_SECRET_KEY=/m.test(readFileSync('.env', 'utf8'))) {
  appendFileSync('.env', `WEBHOOK_SECRET_KEY=${randomBytes(32).toString('base64url')}\n`)
  console.log('added WEBHOOK_SECRET_KEY to .env')
}

mkdirSync('secrets', { recursive: true, mode: 0o700 })
if (!existsSync('secrets/jwt-ed25519.pem')) {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true })
  // Readable by the container's non-root user through the bind mount.
  writeFileSync('secrets/jwt-ed25519.pem', await exportPKCS8(privateKey), { mode: 0o644 })
  console.log('wrote secrets/jwt-ed25519.pem')
} else console.log('secrets/jwt-ed25519.pem exists, kept')

// Only when neither file exists: a real certificate placed here is never replaced, even near expiry.
if (!existsSync('secrets/tls/cert.pem') && !existsSync('secrets/tls/key.pem')) {
  ensureSelfSignedCert('secrets/tls')
  console.log('wrote secrets/tls/cert.pem and key.pem (self-signed for localhost: replace them with yours)')
} else console.log('secrets/tls/ exists, kept')
