import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const base = { HOOK_SECRET: 'a-hook-secret-long-enough', JWT_PRIVATE_KEY: pem }

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error('expected loadConfig to throw')
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base)
    expect(c).toMatchObject({
      HTTP_PORT: 8080,
      RTMP_PORT: 1935,
      APP_PORT: 3000,
      PUBLIC_URL: 'http://localhost:8080',
      RTMP_PUBLIC_URL: 'rtmp://localhost:1935/live',
      RECONNECT_WINDOW_S: 30,
      ALLOWED_ORIGINS: ['http://localhost:8080'],
      secureCookies: false,
    })
  })

  it('names the variable that is wrong', () => {
    expect(errorOf({ ...base, APP_PORT: 'eighty' })).toContain('APP_PORT')
    expect(errorOf({ ...base, APP_PORT: '70000' })).toContain('APP_PORT')
    expect(errorOf({ ...base, PUBLIC_URL: 'not a url' })).toContain('PUBLIC_URL')
    expect(errorOf({ ...base, HOOK_SECRET: 'short' })).toContain('HOOK_SECRET')
    expect(errorOf({ ...base, HOOK_SECRET: 'has spaces and is long enough' })).toContain('HOOK_SECRET')
    expect(errorOf({ ...base, RECONNECT_WINDOW_S: '-1' })).toContain('RECONNECT_WINDOW_S')
    expect(errorOf({ ...base, INGEST_NODES: 'node-a' })).toContain('INGEST_NODES')
    expect(errorOf({ HOOK_SECRET: base.HOOK_SECRET })).toContain('JWT_PRIVATE_KEY_FILE')
    expect(
      errorOf({
        ...base,
        JWT_PRIVATE_KEY: undefined as unknown as string,
        JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem',
      }),
    ).toContain('JWT_PRIVATE_KEY_FILE')
  })

  it('treats empty variables as unset', () => {
    const c = loadConfig({ ...base, SMTP_URL: '', APP_PORT: '' })
    expect(c.SMTP_URL).toBeUndefined()
    expect(c.APP_PORT).toBe(3000)
  })

  it('parses ingest nodes, origins and https cookies', () => {
    const c = loadConfig({
      ...base,
      INGEST_NODES: 'edge-1=http://10.0.0.1:8081/, edge-2=http://10.0.0.2:8081',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      PUBLIC_URL: 'https://live.example/',
    })
    expect(c.INGEST_NODES).toEqual({ 'edge-1': 'http://10.0.0.1:8081', 'edge-2': 'http://10.0.0.2:8081' })
    expect(c.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example'])
    expect(c.PUBLIC_URL).toBe('https://live.example')
    expect(c.secureCookies).toBe(true)
  })

  it('refuses to start in production without SMTP_URL (mails would land in the log)', () => {
    expect(errorOf({ ...base, NODE_ENV: 'production' })).toMatch(/SMTP_URL: .*required/)
    // compose passes `SMTP_URL: ${SMTP_URL:-}`: an empty value is unset, and refused too.
    expect(errorOf({ ...base, NODE_ENV: 'production', SMTP_URL: '' })).toContain('SMTP_URL')
    expect(
      loadConfig({ ...base, NODE_ENV: 'production', SMTP_URL: 'smtps://u:p@smtp.example.com:465' }).SMTP_URL,
    ).toBe('smtps://u:p@smtp.example.com:465')
    for (const NODE_ENV of ['development', 'test'])
      expect(loadConfig({ ...base, NODE_ENV }).SMTP_URL).toBeUndefined()
  })

  it('reads REFRESH_REUSE_GRACE_S (default 10 s)', () => {
    expect(loadConfig(base).REFRESH_REUSE_GRACE_S).toBe(10)
    expect(loadConfig({ ...base, REFRESH_REUSE_GRACE_S: '0' }).REFRESH_REUSE_GRACE_S).toBe(0)
    expect(errorOf({ ...base, REFRESH_REUSE_GRACE_S: '-1' })).toContain('REFRESH_REUSE_GRACE_S')
  })

  it('tells OBS to use RTMPS when the site is https and RTMPS_PORT is set', () => {
    const https = { ...base, PUBLIC_URL: 'https://live.example', RTMP_PORT: '1935' }
    expect(loadConfig({ ...https, RTMPS_PORT: '1936' }).RTMP_PUBLIC_URL).toBe(
      'rtmps://live.example:1936/live',
    )
    // Without an RTMPS port, or on a plain-http site, plain RTMP.
    expect(loadConfig(https).RTMP_PUBLIC_URL).toBe('rtmp://live.example:1935/live')
    expect(loadConfig({ ...base, RTMPS_PORT: '1936' }).RTMP_PUBLIC_URL).toBe('rtmp://localhost:1935/live')
    // An explicit RTMP_PUBLIC_URL always wins.
    const explicit = { ...https, RTMPS_PORT: '1936', RTMP_PUBLIC_URL: 'rtmp://ingest.example/live' }
    expect(loadConfig(explicit).RTMP_PUBLIC_URL).toBe('rtmp://ingest.example/live')
    expect(errorOf({ ...base, RTMPS_PORT: '0' })).toContain('RTMPS_PORT')
  })
})

describe('client addresses and socket caps', () => {
  it('trusts loopback proxies by default and caps sockets', () => {
    const c = loadConfig(base)
    expect(c.TRUSTED_PROXIES).toEqual(['127.0.0.0/8', '::1'])
    expect(c.WS_MAX_PER_IP).toBe(100)
    expect(c.WS_MAX_CONNECTIONS).toBe(20_000)
  })

  it('parses TRUSTED_PROXIES and refuses what is not an address or range', () => {
    expect(loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8, 2001:db8::1' }).TRUSTED_PROXIES).toEqual([
      '10.0.0.0/8',
      '2001:db8::1',
    ])
    expect(errorOf({ ...base, TRUSTED_PROXIES: 'lb.internal' })).toContain('TRUSTED_PROXIES')
    expect(errorOf({ ...base, TRUSTED_PROXIES: '10.0.0.0/33' })).toContain('TRUSTED_PROXIES')
    expect(errorOf({ ...base, WS_MAX_PER_IP: '0' })).toContain('WS_MAX_PER_IP')
  })

  it('refuses the old TRUST_PROXY boolean, naming its replacement', () => {
    expect(errorOf({ ...base, TRUST_PROXY: 'true' })).toMatch(/TRUST_PROXY: .*TRUSTED_PROXIES/)
  })
})
