/**
 * @module webhooks/secret — signing secrets: generated as the Standard Webhooks spec says
 * (`whsec_` + base64 of 32 random bytes), shown once, and stored encrypted (AES-256-GCM) because
 * the app must sign with them — unlike passwords and stream keys they cannot be hashed.
 *
 * The key is WEBHOOK_SECRET_KEY, or, when that is unset, derived from HOOK_SECRET with HKDF (so a
 * deployment works without a new variable; rotating HOOK_SECRET then makes stored secrets unreadable:
 * set WEBHOOK_SECRET_KEY in production). The endpoint id is the AAD: a ciphertext copied onto
 * another row does not decrypt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { Config } from '../config.js'

export type SecretBox = {
  seal(secret: string, endpointId: string): string
  open(sealed: string, endpointId: string): string
}

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export function secretKey(config: Pick<Config, 'WEBHOOK_SECRET_KEY' | 'HOOK_SECRET'>): Buffer {
  const ikm = config.WEBHOOK_SECRET_KEY ?? config.HOOK_SECRET
  return Buffer.from(hkdfSync('sha256', ikm, 'live-control-plane', 'webhook-secrets-v1', 32))
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('webhook secret key must be 32 bytes')
  return {
    seal(secret, endpointId) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(endpointId))
      const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
      return [
        'v1',
        iv.toString('base64'),
        cipher.getAuthTag().toString('base64'),
        ct.toString('base64'),
      ].join(':')
    },
    open(sealed, endpointId) {
      const [v, iv, tag, ct] = sealed.split(':')
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown secret format')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
      decipher.setAAD(Buffer.from(endpointId))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8')
    },
  }
}
