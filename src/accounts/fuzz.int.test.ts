/**
 * Property-based: whatever arrives at register, login or refresh — any JSON, broken JSON, wrong
 * types, odd content types, stray cookies from anywhere — the answer is never a 500 and every
 * error is RFC 9457 problem+json with a stable code.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, randomIp } from '../../test/auth-client.js'
import { createTestApp, manualClock, type TestApp } from '../../test/harness.js'

const clock = manualClock()
let t: TestApp

beforeAll(async () => {
  t = await createTestApp({ now: clock.now })
})
afterAll(() => t.close())

const CODES = new Set([
  'VALIDATION',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
])

/** Printable ASCII only: anything else cannot be put in an HTTP header at all. */
const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 80 })
const anyJson = fc.jsonValue({ maxDepth: 3 })
const fieldValue = fc.oneof(
  fc.string(),
  fc.emailAddress(),
  anyJson,
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
)
const username = fc.stringMatching(/^[a-z0-9_]{1,30}$/)

/** Well-formed requests, so the deep paths (argon2, the database, rotation) run too. */
const wellFormed = fc
  .record({
    // zod's email rule is stricter than RFC 5322 (fc.emailAddress), which the junk below covers.
    email: fc.stringMatching(/^[a-z0-9]{1,16}@[a-z0-9]{1,12}\.[a-z]{2,6}$/),
    username: fc.stringMatching(/^[a-z0-9_]{3,24}$/),
    password: fc.string({ minLength: 8, maxLength: 64 }),
    remember: fc.boolean(),
    refreshToken: fc.stringMatching(/^[a-z0-9]{16}\.[a-z0-9]{40}$/),
  })
  .map((b) => JSON.stringify(b))

/** Bodies from well-formed to "nearly right" to plain junk. */
const bodies = fc.oneof(
  { arbitrary: wellFormed, weight: 3 },
  fc
    .record(
      {
        email: fc.oneof(fc.emailAddress(), fieldValue),
        username: fc.oneof(username, fieldValue),
        password: fc.oneof(fc.string({ minLength: 0, maxLength: 140 }), fieldValue),
        remember: fc.oneof(fc.boolean(), fieldValue),
        refreshToken: fc.oneof(fc.stringMatching(/^[a-z0-9]{16}\.[a-z0-9]{40}$/), fieldValue),
      },
      { requiredKeys: [] },
    )
    .map((b) => JSON.stringify(b)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constant(''),
)
const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 4 },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'application/problem+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  ),
)
const extraHeaders = fc.record(
  {
    cookie: fc.oneof(
      headerText,
      headerText.map((v) => `refresh_token=${v}`),
    ),
    origin: fc.oneof(fc.constant('http://localhost:8080'), headerText),
    authorization: fc.oneof(
      headerText,
      headerText.map((v) => `Bearer ${v}`),
    ),
  },
  { requiredKeys: [] },
)

async function expectNoServerErrorAndProblems(res: Response, label: string) {
  expect(res.status, label).toBeLessThan(500)
  if (res.status < 400) return
  expect(res.headers.get('content-type'), label).toBe('application/problem+json')
  const body = (await res.json()) as Record<string, unknown>
  expect(body.status, label).toBe(res.status)
  expect(CODES.has(body.code as string), `${label}: code ${String(body.code)}`).toBe(true)
  for (const k of ['type', 'title', 'detail']) expect(typeof body[k], `${label}: ${k}`).toBe('string')
  expect(JSON.stringify(body), label).not.toMatch(/at .*\.(ts|js):\d+/) // no stack traces
}

describe.each(['register', 'login', 'refresh'])('POST /api/v1/auth/%s with random input', (endpoint) => {
  it('never answers 500 and always explains errors as problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, extraHeaders, async (raw, contentType, headers) => {
        const res = await call(t, 'POST', `/api/v1/auth/${endpoint}`, {
          raw,
          headers: { ...headers, ...(contentType ? { 'content-type': contentType } : {}) },
          ip: randomIp(),
        })
        await expectNoServerErrorAndProblems(res, `${endpoint} ${contentType} ${raw.slice(0, 120)}`)
      }),
      { numRuns: 80 },
    )
  })
})

describe('oversized bodies', () => {
  it('are refused with 413 problem+json before anything parses them', async () => {
    const res = await call(t, 'POST', '/api/v1/auth/login', {
      raw: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(70_000) }),
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(413)
    await expectNoServerErrorAndProblems(res, '413')
  })
})
