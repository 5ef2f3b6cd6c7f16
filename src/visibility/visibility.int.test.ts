/**
 * Who may watch, in the app: visibility and members through the API, the playback check nginx
 * asks (its verdicts and cache lifetimes), and the chat socket of a private channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatter, type Instance, startInstances, TestSocket, withSockets } from '../../test/chat-client.js'
import { createUser, loggedIn, uniqueUsername } from '../../test/factories.js'
import { CloseCode } from '../chat/protocol.js'
import { signPlaybackGrant } from './playback-token.js'

let env: Awaited<ReturnType<typeof startInstances>>
let a: Instance

beforeAll(async () => {
  env = await startInstances(1)
  a = env.instances[0]!
})
afterAll(() => env.close())

const call = (method: string, path: string, auth?: Record<string, string>, body?: unknown) =>
  fetch(`${a.http}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })

async function privateChannel(username?: string) {
  const owner = await loggedIn(a.deps, { username })
  const res = await call('PATCH', `/api/v1/channels/${owner.user.username}`, owner.auth, {
    visibility: 'private',
  })
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ visibility: 'private', title: '' })
  return { owner, name: owner.user.username }
}

const check = (uri: string) =>
  fetch(`${a.http}/internal/playback-auth`, { headers: { 'x-original-uri': uri } })

describe('visibility and members', () => {
  it('lists public channels only; unlisted plays by link; private only for who may watch', async () => {
    // The directory is sorted by name and paged (100 here), and the suite's database holds many
    // channels: names that sort first keep every assertion below about these three, not vacuous.
    const first = () => uniqueUsername('000')
    const pub = await loggedIn(a.deps, { username: first() })
    const unl = await loggedIn(a.deps, { username: first() })
    await call('PATCH', `/api/v1/channels/${unl.user.username}`, unl.auth, { visibility: 'unlisted' })
    const { owner, name } = await privateChannel(first())
    const listed = (
      (await (await call('GET', '/api/v1/channels?limit=100')).json()) as { name: string }[]
    ).map((c) => c.name)
    expect(listed).toContain(pub.user.username)
    expect(listed).not.toContain(unl.user.username)
    expect(listed).not.toContain(name)
    expect((await call('GET', `/api/v1/channels/${unl.user.username}`)).status).toBe(200)
    expect((await call('GET', `/api/v1/channels/${name}`)).status).toBe(404)
    expect((await call('GET', `/api/v1/channels/${name}`, pub.auth)).status).toBe(404)
    expect((await call('GET', `/api/v1/channels/${name}`, owner.auth)).status).toBe(200)
    // A bad bearer is a 401 (refresh and retry), not a silent anonymous view.
    expect((await call('GET', `/api/v1/channels/${name}`, { authorization: 'Bearer x.y.z' })).status).toBe(
      401,
    )
    const admin = await loggedIn(a.deps, { role: 'admin' })
    expect((await call('GET', `/api/v1/channels/${name}`, admin.auth)).status).toBe(200)
    // Moderators may watch too.
    const mod = await loggedIn(a.deps)
    expect(
      (await call('PUT', `/api/v1/channels/${name}/moderators/${mod.user.username}`, owner.auth)).status,
    ).toBe(204)
    expect((await call('GET', `/api/v1/channels/${name}`, mod.auth)).status).toBe(200)
    // The web page shows strangers nothing of a private channel but its name.
    const page = await (await fetch(`${a.http}/c/${name}`)).text()
    expect(page).not.toContain('"status":"live"')
  })

  it('lets only the owner manage members; grants follow membership', async () => {
    const { owner, name } = await privateChannel()
    const fan = await loggedIn(a.deps)
    const other = await loggedIn(a.deps)
    const path = `/api/v1/channels/${name}/members/${fan.user.username}`
    expect((await call('PUT', path, other.auth)).status).toBe(403)
    expect((await call('POST', `/api/v1/channels/${name}/playback-tokens`, fan.auth)).status).toBe(404)
    expect((await call('PUT', path, owner.auth)).status).toBe(204)
    expect((await call('PUT', path, owner.auth)).status).toBe(204) // idempotent
    expect((await call('PUT', `/api/v1/channels/${name}/members/nobody_here_x`, owner.auth)).status).toBe(404)
    expect((await call('PUT', `/api/v1/channels/${name}/members/${name}`, owner.auth)).status).toBe(422)
    const list = await call('GET', `/api/v1/channels/${name}/members`, owner.auth)
    expect(await list.json()).toEqual([{ username: fan.user.username, since: expect.any(String) }])
    expect((await call('GET', `/api/v1/channels/${name}/members`, fan.auth)).status).toBe(403)

    const res = await call('POST', `/api/v1/channels/${name}/playback-tokens`, fan.auth, { ttlS: 60 })
    expect(res.status).toBe(201)
    const grant = (await res.json()) as { token: string; expiresAt: string; playbackUrl: string }
    expect(grant.playbackUrl).toBe(`${a.deps.config.PUBLIC_URL}/hls/t/${grant.token}/${name}/index.m3u8`)
    expect(Date.parse(grant.expiresAt) - Date.now()).toBeLessThanOrEqual(61_000)
    expect(
      (await call('POST', `/api/v1/channels/${name}/playback-tokens`, fan.auth, { ttlS: 10 ** 7 })).status,
    ).toBe(422)
    const ok = await check(`/hls/t/${grant.token}/${name}/1700000000000.ts`)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('cache-control')).toMatch(/^max-age=5, stale-if-error=\d+$/)

    expect((await call('DELETE', path, owner.auth)).status).toBe(204)
    expect((await call('POST', `/api/v1/channels/${name}/playback-tokens`, fan.auth)).status).toBe(404)
    // The check re-asks membership: the grant still in the fan's hands is refused.
    expect((await check(`/hls/t/${grant.token}/${name}/index.m3u8`)).status).toBe(403)
  })
})

describe('the playback check nginx asks', () => {
  it('allows public channels without a grant and refuses everything doubtful', async () => {
    const pub = await createUser(a.deps)
    const { owner, name } = await privateChannel()
    const okPublic = await check(`/hls/${pub.username}/index.m3u8`)
    expect(okPublic.status).toBe(200)
    expect(okPublic.headers.get('cache-control')).toBe('max-age=5, stale-if-error=600')
    expect((await check(`/thumbs/${pub.username}.jpg`)).status).toBe(200)
    const anon = await check(`/hls/${name}/index.m3u8`)
    expect(anon.status).toBe(401)
    expect(anon.headers.get('cache-control')).toBe('max-age=5') // never served stale
    expect((await check(`/hls/${name}/123.ts`)).status).toBe(401)
    expect((await check(`/thumbs/${name}.jpg`)).status).toBe(401)
    // Unknown channels look like private ones; odd spellings are refused outright.
    expect((await check('/hls/nobody_here_y/index.m3u8')).status).toBe(403)
    for (const odd of [
      `/hls/%61${name}/index.m3u8`,
      `/hls/x/../${name}/index.m3u8`,
      `/hls//${name}/a.ts`,
      '',
    ])
      expect((await check(odd)).status).toBe(403)

    const base = { publicUrl: a.http, now: Date.now() }
    const good = await signPlaybackGrant(a.deps.tokens, {
      ...base,
      userId: owner.user.id,
      channel: name,
      ttlS: 60,
    })
    expect((await check(`/hls/t/${good.token}/${name}/index.m3u8`)).status).toBe(200)
    // A grant for another channel, an expired one, a forged one, an access token: all 403.
    const other = await signPlaybackGrant(a.deps.tokens, {
      ...base,
      userId: owner.user.id,
      channel: pub.username,
      ttlS: 60,
    })
    expect((await check(`/hls/t/${other.token}/${name}/index.m3u8`)).status).toBe(403)
    const expired = await signPlaybackGrant(a.deps.tokens, {
      ...base,
      now: Date.now() - 120_000,
      userId: owner.user.id,
      channel: name,
      ttlS: 60,
    })
    expect((await check(`/hls/t/${expired.token}/${name}/index.m3u8`)).status).toBe(403)
    const [h, p, s] = good.token.split('.')
    expect((await check(`/hls/t/${h}.${p}.${s!.slice(0, -2)}AA/${name}/index.m3u8`)).status).toBe(403)
    const access = owner.accessToken
    expect((await check(`/hls/t/${access}/${name}/index.m3u8`)).status).toBe(403)
    // And a playback grant is no access token.
    expect((await call('GET', '/api/v1/me', { authorization: `Bearer ${good.token}` })).status).toBe(401)
  })
})

describe('the chat of a private channel', () => {
  it('is only for those who may watch; a revoked member is closed with 4503', async () => {
    const { owner, name } = await privateChannel()
    const fan = await chatter(a.deps, a.http)
    const stranger = await chatter(a.deps, a.http)
    await call('PUT', `/api/v1/channels/${name}/members/${fan.user.username}`, owner.auth)
    await expect(TestSocket.open(a.url(name))).rejects.toThrow('HTTP 401')
    await expect(TestSocket.open(a.url(name), { ticket: await stranger.ticket() })).rejects.toThrow(
      'HTTP 404',
    )
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(name), { ticket: await fan.ticket() }))
      expect(s.welcome.you).toMatchObject({ username: fan.user.username })
      await call('DELETE', `/api/v1/channels/${name}/members/${fan.user.username}`, owner.auth)
      expect((await s.closed).code).toBe(CloseCode.NOT_ALLOWED)
    })
  })

  it('closes anonymous sockets when a channel turns private', async () => {
    const owner = await loggedIn(a.deps)
    const name = owner.user.username
    await withSockets(async (track) => {
      const s = track(await TestSocket.join(a.url(name)))
      await call('PATCH', `/api/v1/channels/${name}`, owner.auth, { visibility: 'private' })
      expect((await s.closed).code).toBe(CloseCode.NOT_ALLOWED)
    })
  })
})
