/**
 * @module test/forge-tokens — the bad access tokens an attacker would try, built against a real
 * token service's key so that each differs from a valid token in exactly one way.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, type JWTPayload, SignJWT } from 'jose'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export type ForgeContext = {
  /** The service's real signing key (PKCS#8 PEM) and settings. */
  privateKeyPem: string
  issuer: string
  audience?: string
  now: () => number
  ttlS: number
}

export type Claims = { sub: string; role: 'user' | 'admin'; sid: string }

async function kidOf(pem: string) {
  return (await calculateJwkThumbprint(await exportJWK(createPublicKey(pem)))).slice(0, 16)
}

async function sign(
  ctx: ForgeContext,
  claims: JWTPayload & { sub: string },
  over: {
    key?: ReturnType<typeof createPrivateKey>
    alg?: string
    typ?: string
    kid?: string
    iat?: number
    exp?: number
    aud?: string
    iss?: string
  } = {},
) {
  const iat = over.iat ?? Math.floor(ctx.now() / 1000)
  const { sub, ...rest } = claims
  return new SignJWT(rest)
    .setProtectedHeader({
      alg: over.alg ?? 'EdDSA',
      typ: over.typ ?? 'at+jwt',
      kid: over.kid ?? (await kidOf(ctx.privateKeyPem)),
    })
    .setSubject(sub)
    .setIssuer(over.iss ?? ctx.issuer)
    .setAudience(over.aud ?? ctx.audience ?? 'live-api')
    .setIssuedAt(iat)
    .setExpirationTime(over.exp ?? iat + ctx.ttlS)
    .sign(over.key ?? createPrivateKey(ctx.privateKeyPem))
}

/** Each entry: a name and a token that must be refused although it carries `claims`. */
export async function badTokens(ctx: ForgeContext, claims: Claims): Promise<[string, string][]> {
  const kid = await kidOf(ctx.privateKeyPem)
  const nowS = Math.floor(ctx.now() / 1000)
  const valid = await sign(ctx, claims)
  const [h, p, s] = valid.split('.') as [string, string, string]
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  const otherEd = generateKeyPairSync('ed25519').privateKey
  const publicPem = createPublicKey(ctx.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString()
  // Flip one bit in the middle of the signature.
  const sig = Buffer.from(s, 'base64url')
  sig[sig.length >> 1]! ^= 0x01
  return [
    ['expired', await sign(ctx, claims, { iat: nowS - ctx.ttlS - 60, exp: nowS - 1 })],
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${p}.`],
    [
      'tampered payload (role flipped)',
      `${h}.${b64({ ...payload, role: claims.role === 'admin' ? 'user' : 'admin' })}.${s}`,
    ],
    [
      'tampered payload (another subject)',
      `${h}.${b64({ ...payload, sub: '00000000-0000-4000-8000-00000000beef' })}.${s}`,
    ],
    ['tampered signature', `${h}.${p}.${sig.toString('base64url')}`],
    ['wrong audience', await sign(ctx, claims, { aud: 'chat' })],
    ['wrong issuer', await sign(ctx, claims, { iss: 'https://evil.example' })],
    ['wrong typ (a plain JWT)', await sign(ctx, claims, { typ: 'JWT' })],
    ['signed by another key under our kid', await sign(ctx, claims, { key: otherEd })],
    ['unknown kid', await sign(ctx, claims, { kid: 'not-a-known-kid' })],
    [
      'HS256 keyed with our public key (algorithm confusion)',
      await new SignJWT({ role: claims.role, sid: claims.sid })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
        .setSubject(claims.sub)
        .setIssuer(ctx.issuer)
        .setAudience('live-api')
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + 60)
        .sign(new TextEncoder().encode(publicPem)),
    ],
    ['properly signed but without sid', await sign(ctx, { sub: claims.sub, role: claims.role })],
    ['properly signed with an unknown role', await sign(ctx, { ...claims, role: 'superuser' })],
    ['not a JWT', 'hello.world'],
  ]
}

export { sign as signWith }
