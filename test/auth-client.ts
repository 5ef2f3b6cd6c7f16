/**
 * @module test/auth-client — request helpers for the auth tests: a chosen client IP (through the
 * same getConnInfo path a real socket takes), cookies, bearer tokens, and a minimal cookie jar.
 */
import { randomBytes } from 'node:crypto'
import type { TestApp } from './harness.js'

export type CallOpts = {
  body?: unknown
  /** Raw body, sent as is (with whatever content-type `headers` says). */
  raw?: string
  headers?: Record<string, string>
  ip?: string
  token?: string
  cookie?: string
}

/** A random public-looking address, so per-IP limits never leak between tests. */
export function randomIp(): string {
  const b = randomBytes(3)
  return `10.${b[0]}.${b[1]}.${b[2]}`
}

export function call(t: TestApp, method: string, path: string, opts: CallOpts = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json'
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.cookie) headers.cookie = opts.cookie
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
  // @hono/node-server's getConnInfo reads env.incoming.socket, as it does for a real connection.
  const env = { incoming: { socket: { remoteAddress: opts.ip ?? randomIp(), remotePort: 40000 } } }
  return Promise.resolve(t.app.request(path, { method, headers, body }, env))
}

/** `name=value` of the named cookie a response sets, or undefined. */
export function setCookie(res: Response, name: string): { pair: string; attributes: string } | undefined {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...rest] = line.split(';')
    if (pair!.startsWith(`${name}=`)) return { pair: pair!, attributes: rest.join(';').trim() }
  }
  return undefined
}

export type LoginResult = {
  accessToken: string
  refreshToken: string
  expiresIn: number
  tokenType: string
  user: { id: string; email: string; username: string; role: string; emailVerified: boolean }
}

export async function loginAs(
  t: TestApp,
  email: string,
  password: string,
  opts: { remember?: boolean; ip?: string } = {},
): Promise<LoginResult & { res: Response }> {
  const res = await call(t, 'POST', '/api/v1/auth/login', {
    body: { email, password, remember: opts.remember ?? false },
    ...(opts.ip ? { ip: opts.ip } : {}),
  })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  return { ...((await res.clone().json()) as LoginResult), res }
}

/** Asserts the RFC 9457 shape every API error must have and returns the body. */
export async function problemOf(
  res: Response,
): Promise<{ code: string; status: number; detail: string; errors?: { field: string; message: string }[] }> {
  const type = res.headers.get('content-type')
  if (type !== 'application/problem+json')
    throw new Error(`expected problem+json, got ${type} (${res.status})`)
  const body = (await res.json()) as {
    code: string
    status: number
    detail: string
    title: string
    type: string
  }
  for (const k of ['type', 'title', 'status', 'code', 'detail'] as const) {
    if (body[k] === undefined) throw new Error(`problem without ${k}`)
  }
  if (body.status !== res.status) throw new Error(`problem status ${body.status} ≠ HTTP ${res.status}`)
  return body
}
