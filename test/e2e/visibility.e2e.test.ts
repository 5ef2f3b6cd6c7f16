/**
 * Who may watch, enforced where the bytes are served: a private channel's playlist and segments
 * through the real nginx edge (auth_request + its cache) in front of the app, a real ffmpeg
 * publisher, and ffprobe standing in for players that are not ours (VLC, ffplay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signPlaybackGrant } from '../../src/visibility/playback-token.js'
import { loggedIn } from '../factories.js'
import { httpFrom, loopback } from '../support/edge-clients.js'
import { ffprobe, type PublisherHandle, startPublisher, waitFor } from '../support/ffmpeg.js'
import { broadcaster } from '../support/live-helpers.js'
import { type Stack, startStack } from '../support/stack.js'

let stack: Stack
let pub: PublisherHandle | undefined
let owner: Awaited<ReturnType<typeof broadcaster>>
let member: Awaited<ReturnType<typeof loggedIn>>
let stranger: Awaited<ReturnType<typeof loggedIn>>
let segment: string

type Grant = { token: string; expiresAt: string; playbackUrl: string }

const api = (path: string, init: RequestInit & { auth?: Record<string, string> } = {}) =>
  fetch(`${stack.http}${path}`, {
    ...init,
    headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.auth },
  })

async function grantFor(auth: Record<string, string>, channel: string) {
  return api(`/api/v1/channels/${channel}/playback-tokens`, { method: 'POST', auth })
}

beforeAll(async () => {
  // A 1 s auth cache so a revocation is observable quickly (the default is 5 s); live
  // thumbnails every 2 s so the private one exists within the test.
  stack = await startStack({ env: { PLAYBACK_AUTH_CACHE_S: '1', THUMBNAIL_INTERVAL_S: '2' } })
  owner = await broadcaster(stack.deps)
  member = await loggedIn(stack.deps)
  stranger = await loggedIn(stack.deps)
  const patch = await api(`/api/v1/channels/${owner.channel}`, {
    method: 'PATCH',
    auth: owner.auth,
    body: JSON.stringify({ visibility: 'private' }),
  })
  expect(patch.status).toBe(200)
  expect(
    (
      await api(`/api/v1/channels/${owner.channel}/members/${member.user.username}`, {
        method: 'PUT',
        auth: owner.auth,
      })
    ).status,
  ).toBe(204)
  pub = startPublisher({ url: `${stack.rtmp}/${owner.key}` })
  // The owner's own grant shows when segments exist (the anonymous path cannot).
  const grant = (await (await grantFor(owner.auth, owner.channel)).json()) as Grant
  segment = await waitFor(
    async () => {
      const res = await fetch(grant.playbackUrl)
      if (res.status !== 200) return null
      return (await res.text()).split('\n').find((l) => l.endsWith('.ts')) ?? null
    },
    { timeoutMs: 20_000, what: 'a segment in the private playlist' },
  )
})
afterAll(async () => {
  await pub?.stop()
  await stack?.stop()
})

describe('a private channel', () => {
  it('refuses anonymous playlist and segment requests, guessed names too', async () => {
    const base = `${stack.http}/hls/${owner.channel}`
    expect((await fetch(`${base}/index.m3u8`)).status).toBe(401)
    expect((await fetch(`${base}/${segment}`)).status).toBe(401)
    expect((await fetch(`${base}/1700000000000.ts`)).status).toBe(401)
    // Encoded or dotted spellings of the same file are refused, not normalised past the check.
    expect((await fetch(`${stack.http}/hls/%${'6'}1${owner.channel.slice(1)}/index.m3u8`)).status).toBe(403)
    expect((await fetch(`${stack.http}/hls/t/not.a.token/${owner.channel}/${segment}`)).status).toBe(403)
    // The check itself is internal.
    expect((await fetch(`${stack.http}/internal/playback-auth`)).status).toBe(404)
  })

  it('is absent from the directory and the channel API for strangers', async () => {
    const list = (await (await api('/api/v1/channels?live=true')).json()) as { name: string }[]
    expect(list.map((c) => c.name)).not.toContain(owner.channel)
    const all = (await (await api('/api/v1/channels?limit=100')).json()) as { name: string }[]
    expect(all.map((c) => c.name)).not.toContain(owner.channel)
    expect((await api(`/api/v1/channels/${owner.channel}`)).status).toBe(404)
    expect((await api(`/api/v1/channels/${owner.channel}`, { auth: stranger.auth })).status).toBe(404)
    const mine = await api(`/api/v1/channels/${owner.channel}`, { auth: member.auth })
    expect(mine.status).toBe(200)
    expect(await mine.json()).toMatchObject({ visibility: 'private', status: 'live' })
    const home = await (await fetch(`${stack.http}/`)).text()
    expect(home).not.toContain(owner.channel)
  })

  it("plays a member's grant in ffprobe as is; refuses a stranger and a grant for another channel", async () => {
    const res = await grantFor(member.auth, owner.channel)
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const grant = (await res.json()) as Grant
    expect(grant.playbackUrl).toBe(`${stack.http}/hls/t/${grant.token}/${owner.channel}/index.m3u8`)
    expect(Date.parse(grant.expiresAt)).toBeGreaterThan(Date.now())
    const probe = await ffprobe(grant.playbackUrl)
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264'])
    // Segment requests carry the grant as a path component (relative resolution).
    const seg = await fetch(`${stack.http}/hls/t/${grant.token}/${owner.channel}/${segment}`)
    expect([200, 404]).toContain(seg.status) // 404: cleaned up meanwhile; never 401/403
    expect(seg.headers.get('cache-control') ?? 'private').toContain('private')
    const preflight = await fetch(grant.playbackUrl, { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')

    expect((await grantFor(stranger.auth, owner.channel)).status).toBe(404)
    const own = (await (await grantFor(stranger.auth, stranger.user.username)).json()) as Grant
    expect((await fetch(`${stack.http}/hls/t/${own.token}/${owner.channel}/index.m3u8`)).status).toBe(403)
    expect((await fetch(`${stack.http}/hls/t/${own.token}/${owner.channel}/${segment}`)).status).toBe(403)
    // The access log never holds a grant.
    const logs = [...stack.nginxFiles()].filter(([p]) => p.endsWith('access.log')).map(([, c]) => c)
    expect(logs.join('\n')).toContain('/hls/t/-/')
    for (const l of logs) expect(l).not.toContain(grant.token.split('.')[2])
  })

  it('answers each client by its own grant, not by what the check cached for another address', async () => {
    const grant = (await (await grantFor(member.auth, owner.channel)).json()) as Grant
    const signed = `${stack.http}/hls/t/${grant.token}/${owner.channel}/index.m3u8`
    // The member's player warms the cached answer from one address…
    expect((await httpFrom(loopback(2, 1), signed)).status).toBe(200)
    // …which nobody without the grant reaches, from any other address, with any forwarded header.
    const open = `${stack.http}/hls/${owner.channel}/index.m3u8`
    expect((await httpFrom(loopback(2, 2), open)).status).toBe(401)
    expect(
      (await httpFrom(loopback(2, 3), open, { headers: { 'x-forwarded-for': '127.0.2.1' } })).status,
    ).toBe(401)
    const own = (await (await grantFor(stranger.auth, stranger.user.username)).json()) as Grant
    const foreign = `${stack.http}/hls/t/${own.token}/${owner.channel}/index.m3u8`
    expect((await httpFrom(loopback(2, 4), foreign)).status).toBe(403)
    // A grant is a bearer credential (as Mux's signed playback): it plays from another address.
    expect((await httpFrom(loopback(2, 5), signed)).status).toBe(200)
  })

  it('shows its live thumbnail under a grant from any address, and to nobody else from any address', async () => {
    const grant = (await (await grantFor(member.auth, owner.channel)).json()) as Grant
    const underGrant = `${stack.http}/thumbs/t/${grant.token}/${owner.channel}.jpg`
    // The member's poster, from one address (warming the check's cached answer)…
    const poster = await waitFor(
      async () => {
        const r = await httpFrom(loopback(3, 1), underGrant)
        return r.status === 200 ? r : null
      },
      { timeoutMs: 20_000, what: "the private channel's thumbnail under a grant" },
    )
    expect(poster.headers['content-type']).toBe('image/jpeg')
    expect(poster.headers['cache-control']).toBe('private, no-cache')
    // …and from another one: a grant is a bearer credential.
    expect((await httpFrom(loopback(3, 2), underGrant)).status).toBe(200)
    // Without it, from other addresses, whatever they claim to forward: refused.
    const bare = `${stack.http}/thumbs/${owner.channel}.jpg`
    expect((await httpFrom(loopback(3, 3), bare)).status).toBe(401)
    expect(
      (await httpFrom(loopback(3, 4), bare, { headers: { 'x-forwarded-for': '127.0.3.1' } })).status,
    ).toBe(401)
    const own = (await (await grantFor(stranger.auth, stranger.user.username)).json()) as Grant
    expect(
      (await httpFrom(loopback(3, 5), `${stack.http}/thumbs/t/${own.token}/${owner.channel}.jpg`)).status,
    ).toBe(403)
    // The grant never reaches the access log.
    const logs = [...stack.nginxFiles()].filter(([p]) => p.endsWith('access.log')).map(([, c]) => c)
    expect(logs.join('\n')).toContain(`/thumbs/t/-/${owner.channel}.jpg`)
    for (const l of logs) expect(l).not.toContain(grant.token.split('.')[2])
  })

  it('refuses an expired grant', async () => {
    const expired = await signPlaybackGrant(stack.deps.tokens, {
      userId: member.user.id,
      channel: owner.channel,
      ttlS: 60,
      now: Date.now() - 3_600_000,
      publicUrl: stack.http,
    })
    expect((await fetch(expired.playbackUrl)).status).toBe(403)
    await expect(ffprobe(expired.playbackUrl)).rejects.toThrow(/403/)
  })

  it('stops new grants when membership is revoked, and refuses the old grant soon after', async () => {
    const held = (await (await grantFor(member.auth, owner.channel)).json()) as Grant
    expect((await fetch(held.playbackUrl)).status).toBe(200)
    const del = await api(`/api/v1/channels/${owner.channel}/members/${member.user.username}`, {
      method: 'DELETE',
      auth: owner.auth,
    })
    expect(del.status).toBe(204)
    expect((await grantFor(member.auth, owner.channel)).status).toBe(404)
    expect((await api(`/api/v1/channels/${owner.channel}`, { auth: member.auth })).status).toBe(404)
    // nginx re-asks the app once its cached answer (PLAYBACK_AUTH_CACHE_S) runs out.
    await waitFor(async () => (await fetch(held.playbackUrl)).status === 403, {
      timeoutMs: 10_000,
      what: 'the revoked member refused',
    })
  })

  it('plays anonymously again once public (the cached refusal expires)', async () => {
    await api(`/api/v1/channels/${owner.channel}`, {
      method: 'PATCH',
      auth: owner.auth,
      body: JSON.stringify({ visibility: 'public' }),
    })
    await waitFor(async () => (await fetch(`${stack.http}/hls/${owner.channel}/index.m3u8`)).status === 200, {
      timeoutMs: 10_000,
      what: 'the public playlist',
    })
    const probe = await ffprobe(`${stack.http}/hls/${owner.channel}/index.m3u8`)
    expect(probe.streams.length).toBe(2)
  })
})
