import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { badTokens, signWith } from '../../test/forge-tokens.js'
import { UnauthorizedError } from '../http/errors.js'
import { createTokenService } from './tokens.js'

const pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const publicPemOf = (privatePem: string) =>
  createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString()

const ISSUER = 'http://localhost:8080'
const claims = {
  sub: '00000000-0000-4000-8000-000000000001',
  role: 'user' as const,
  sid: '00000000-0000-4000-8000-000000000002',
}

async function service(opts: { key?: string; previous?: string[]; now?: () => number } = {}) {
  const privateKeyPem = opts.key ?? pem()
  const now = opts.now ?? (() => 1_800_000_000_000)
  const svc = await createTokenService({
    privateKeyPem,
    previousPublicKeysPem: opts.previous ?? [],
    issuer: ISSUER,
    ttlS: 600,
    now,
  })
  return { svc, ctx: { privateKeyPem, issuer: ISSUER, now, ttlS: 600 } }
}

describe('access tokens', () => {
  it('round-trips user, role and session, with EdDSA, typ at+jwt and a kid', async () => {
    const { svc } = await service()
    const { token, expiresIn } = await svc.signAccess({ id: claims.sub, role: 'admin' }, claims.sid)
    expect(expiresIn).toBe(600)
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())
    expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.stringMatching(/^[\w-]{16}$/) })
    expect(await svc.verifyAccess(token)).toEqual({ id: claims.sub, role: 'admin', sid: claims.sid })
  })

  it('accepts its own forgery helper’s valid token (so the bad ones below differ in one way only)', async () => {
    const { svc, ctx } = await service()
    expect(await svc.verifyAccess(await signWith(ctx, claims))).toEqual({
      id: claims.sub,
      role: 'user',
      sid: claims.sid,
    })
  })

  it('expires after the TTL by the injected clock', async () => {
    let now = 1_800_000_000_000
    const { svc } = await service({ now: () => now })
    const { token } = await svc.signAccess({ id: claims.sub, role: 'user' }, claims.sid)
    now += 599_000
    await expect(svc.verifyAccess(token)).resolves.toBeTruthy()
    now += 1000
    await expect(svc.verifyAccess(token)).rejects.toThrow('access token expired')
  })

  it('refuses every forged or foreign token with a generic UnauthorizedError', async () => {
    const { svc, ctx } = await service()
    const bad = await badTokens(ctx, claims)
    expect(bad.length).toBeGreaterThanOrEqual(12)
    for (const [name, token] of bad) {
      const err = await svc.verifyAccess(token).then(
        () => new Error(`accepted: ${name}`),
        (e: unknown) => e,
      )
      expect(err, name).toBeInstanceOf(UnauthorizedError)
      expect((err as Error).message, name).toMatch(/^(invalid access token|access token expired)$/)
    }
  })
})

describe('JWKS and key rotation', () => {
  it('publishes only public keys, which let another service verify our tokens', async () => {
    const { svc } = await service()
    const jwks = svc.jwks()
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(jwks.keys[0]).not.toHaveProperty('d')
    const { token } = await svc.signAccess({ id: claims.sub, role: 'user' }, claims.sid)
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: 'live-api',
      currentDate: new Date(1_800_000_000_000),
    })
    expect(payload.sub).toBe(claims.sub)
  })

  it('still accepts tokens of the previous key while it is listed, and not once it is dropped', async () => {
    const oldKey = pem()
    const { svc: before } = await service({ key: oldKey })
    const { token } = await before.signAccess({ id: claims.sub, role: 'user' }, claims.sid)
    const newKey = pem()
    const { svc: during } = await service({ key: newKey, previous: [publicPemOf(oldKey)] })
    expect(during.jwks().keys.map((k) => k.kid)).toEqual([
      during.jwks().keys[0]!.kid,
      before.jwks().keys[0]!.kid,
    ])
    await expect(during.verifyAccess(token)).resolves.toMatchObject({ id: claims.sub })
    const fresh = await during.signAccess({ id: claims.sub, role: 'user' }, claims.sid)
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).kid).toBe(
      during.jwks().keys[0]!.kid,
    )
    const { svc: after } = await service({ key: newKey })
    await expect(after.verifyAccess(token)).rejects.toBeInstanceOf(UnauthorizedError)
  })

  it('refuses a key that is not Ed25519', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    await expect(service({ key: rsa })).rejects.toThrow(/Ed25519/)
  })
})
