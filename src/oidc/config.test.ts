/** OIDC_PROVIDERS is validated at boot: plain http only for a loopback issuer, ids unique, openid scope. */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../config.js'

const base = {
  NODE_ENV: 'test',
  HOOK_SECRET: 'a'.repeat(24),
  JWT_PRIVATE_KEY: 'unused-by-these-tests',
}
const provider = (over: Record<string, unknown> = {}) => ({
  id: 'google',
  name: 'Google',
  issuer: 'https://accounts.google.com',
  clientId: 'id',
  clientSecret: 'secret',
  ...over,
})
const load = (providers: unknown) => loadConfig({ ...base, OIDC_PROVIDERS: JSON.stringify(providers) })

describe('OIDC_PROVIDERS', () => {
  it('accepts https issuers and defaults the scopes', () => {
    expect(load([provider()]).OIDC_PROVIDERS[0]!.scopes).toBe('openid email profile')
  })

  it('accepts plain http only for loopback issuers', () => {
    for (const issuer of [
      'http://127.0.0.1:8081',
      'http://localhost:8081/realms/live',
      'http://[::1]:9000',
    ]) {
      expect(load([provider({ issuer })]).OIDC_PROVIDERS[0]!.issuer).toBe(issuer)
    }
    for (const issuer of ['http://accounts.example.com', 'http://10.0.0.5', 'http://127.0.0.1.nip.io']) {
      expect(() => load([provider({ issuer })]), issuer).toThrow(/OIDC_PROVIDERS.*https/s)
    }
  })

  it('refuses duplicate ids, bad ids, scopes without openid and non-JSON', () => {
    expect(() => load([provider(), provider()])).toThrow(ConfigError)
    expect(() => load([provider({ id: 'Google Accounts' })])).toThrow(/OIDC_PROVIDERS/)
    expect(() => load([provider({ scopes: 'email profile' })])).toThrow(/openid/)
    expect(() => loadConfig({ ...base, OIDC_PROVIDERS: '[{' })).toThrow(/must be JSON/)
  })
})
