import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { createSecretBox, generateWebhookSecret, secretKey } from './secret.js'

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 bytes, usable by the standardwebhooks library', () => {
    const secret = generateWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32)
    const wh = new Webhook(secret)
    const sig = wh.sign('msg_1', new Date(), '{}')
    expect(() =>
      wh.verify('{}', {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': sig,
      }),
    ).not.toThrow()
  })

  it('round-trip through encryption, bound to their endpoint and key', () => {
    const box = createSecretBox(randomBytes(32))
    const secret = generateWebhookSecret()
    const sealed = box.seal(secret, 'ep-1')
    expect(sealed).not.toContain(secret.slice(6))
    expect(box.open(sealed, 'ep-1')).toBe(secret)
    expect(() => box.open(sealed, 'ep-2')).toThrow() // copied onto another row
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'ep-1')).toThrow() // another key
  })

  it('derive the key from WEBHOOK_SECRET_KEY, else from HOOK_SECRET', () => {
    const a = secretKey({ HOOK_SECRET: 'h'.repeat(24), WEBHOOK_SECRET_KEY: undefined })
    const b = secretKey({ HOOK_SECRET: 'h'.repeat(24), WEBHOOK_SECRET_KEY: 'k'.repeat(32) })
    expect(a).toHaveLength(32)
    expect(a.equals(b)).toBe(false)
    expect(a.equals(secretKey({ HOOK_SECRET: 'h'.repeat(24), WEBHOOK_SECRET_KEY: undefined }))).toBe(true)
  })
})
