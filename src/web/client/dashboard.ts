/**
 * @module web/client/dashboard — the broadcaster's dashboard, filled from the API after signing in
 * with the refresh cookie: OBS settings, stream keys (a new key is shown once, then only its
 * preview), title, moderators, past broadcasts, API tokens, sign-in methods and signed-in devices.
 */
import type { ChannelView } from '../../channels/service.js'
import { dateTime, liveFor, viewersLabel } from '../shared/format.js'
import { ApiError, api, describe } from './api.js'
import { h, must, table, wireCopyButtons } from './dom.js'
import { initNav } from './nav.js'
import { getSession, type Me } from './session.js'
import { initIdentities, initTokens, loadIdentities, loadTokens } from './tokens.js'
import { initWebhooks } from './webhooks.js'

type Key = {
  id: string
  label: string
  preview: string
  createdAt: string
  lastUsedAt: string | null
  revokedAt: string | null
}
type CreatedKey = Key & { key: string; ingest: { server: string; streamKey: string } }
type StreamSession = {
  id: string
  startedAt: string
  endedAt: string | null
  durationS: number
  endReason: string | null
  peakViewers: number
}
type Device = {
  id: string
  current: boolean
  remember: boolean
  createdAt: string
  lastUsedAt: string | null
  userAgent: string | null
  ip: string | null
}

initNav()
wireCopyButtons()

const END_REASONS: Record<string, string> = {
  publisher_left: 'Stopped',
  key_revoked: 'Key revoked',
  kicked: 'Ended from dashboard',
  account_disabled: 'Account disabled',
  max_duration: 'Maximum length reached',
  idle: 'No data from encoder',
  ingest_lost: 'Connection lost',
  replaced: 'Replaced',
}

function errorTo(el: HTMLElement, err: unknown, messages: Record<string, string> = {}): void {
  el.textContent = err instanceof ApiError ? (messages[err.code] ?? describe(err)) : describe(err)
}

// ---- stream keys -------------------------------------------------------------------------------

const keysEl = must('#keys')
const keyError = must('#key-error')

async function loadKeys(): Promise<void> {
  const keys = await api<Key[]>('/api/v1/stream-keys')
  const active = keys.filter((k) => !k.revokedAt)
  const revoked = keys.filter((k) => k.revokedAt).slice(0, 5)
  const row = (k: Key): (Node | string)[] => [
    h('span', { class: 'key-label' }, k.label || 'Unnamed key'),
    h('code', { class: 'mono' }, k.preview),
    dateTime(k.createdAt),
    k.lastUsedAt ? dateTime(k.lastUsedAt) : 'Never',
    k.revokedAt
      ? h('span', { class: 'tag' }, `Revoked ${dateTime(k.revokedAt)}`)
      : h(
          'button',
          {
            type: 'button',
            class: 'btn btn-danger btn-sm',
            'data-revoke': k.id,
            'aria-label': `Revoke ${k.label || 'key'}`,
          },
          'Revoke',
        ),
  ]
  keysEl.replaceChildren(
    table(
      ['Label', 'Key', 'Created', 'Last used', ''],
      [...active, ...revoked].map(row),
      'No keys yet: create one to go live.',
    ),
  )
}

keysEl.addEventListener('click', async (e) => {
  const button = (e.target as Element).closest<HTMLButtonElement>('[data-revoke]')
  if (!button) return
  if (!confirm('Revoke this key? A stream using it stops at once, and OBS will need a new key.')) return
  button.disabled = true
  try {
    await api(`/api/v1/stream-keys/${button.dataset.revoke}`, { method: 'DELETE' })
    await loadKeys()
  } catch (err) {
    button.disabled = false
    errorTo(keyError, err)
  }
})

must<HTMLFormElement>('#key-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const form = e.currentTarget as HTMLFormElement
  const label = must<HTMLInputElement>('#key-label')
  const button = must<HTMLButtonElement>('button[type="submit"]', form)
  keyError.textContent = ''
  button.disabled = true
  try {
    const created = await api<CreatedKey>('/api/v1/stream-keys', {
      method: 'POST',
      body: { label: label.value.trim() },
    })
    must<HTMLInputElement>('#obs-server').value = created.ingest.server
    must<HTMLInputElement>('#new-key-value').value = created.ingest.streamKey
    const box = must('#new-key')
    box.hidden = false
    label.value = ''
    must<HTMLInputElement>('#new-key-value').select()
    await loadKeys()
  } catch (err) {
    errorTo(keyError, err, {
      EMAIL_NOT_VERIFIED: 'Confirm your email address first: the link is in your inbox.',
      PLAN_LIMIT: 'You have as many keys as your plan allows. Revoke one first.',
    })
  } finally {
    button.disabled = false
  }
})

must('#new-key-done').addEventListener('click', () => {
  // Forget the key: from here on only its preview exists anywhere.
  must<HTMLInputElement>('#new-key-value').value = ''
  must('#new-key').hidden = true
})

// ---- channel: status, title, history ---------------------------------------------------------

async function loadChannel(name: string): Promise<ChannelView> {
  const ch = await api<ChannelView>(`/api/v1/channels/${name}`, { auth: false })
  const status = must('#dash-status')
  const badge =
    ch.status === 'live'
      ? h('span', { class: 'badge badge-live' }, 'Live')
      : ch.status === 'reconnecting'
        ? h('span', { class: 'badge badge-warn' }, 'Reconnecting')
        : h('span', { class: 'badge badge-off' }, 'Offline')
  status.replaceChildren(
    badge,
    ch.live && ch.startedAt
      ? h(
          'span',
          { class: 'muted' },
          `${viewersLabel(ch.viewers)} · live for ${liveFor(Date.now() - Date.parse(ch.startedAt))}`,
        )
      : h('span', { class: 'muted' }, 'Start streaming in OBS to go live'),
    h('a', { class: 'btn btn-ghost btn-sm', href: `/c/${name}` }, 'View channel'),
  )
  return ch
}

function initTitle(name: string, ch: ChannelView): void {
  const input = must<HTMLInputElement>('#title-input')
  const status = must('#title-status')
  input.value = ch.title
  must<HTMLFormElement>('#title-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    status.textContent = 'Saving…'
    try {
      const saved = await api<ChannelView>(`/api/v1/channels/${name}`, {
        method: 'PATCH',
        body: { title: input.value.trim() },
      })
      input.value = saved.title
      status.textContent = 'Saved'
    } catch (err) {
      errorTo(status, err)
    }
  })
}

/** The channel's `record` setting: saved as soon as it is ticked. */
function initRecord(name: string, ch: ChannelView): void {
  const box = must<HTMLInputElement>('#record-input')
  const status = must('#record-status')
  box.checked = ch.record
  box.addEventListener('change', async () => {
    status.textContent = 'Saving…'
    try {
      const saved = await api<ChannelView>(`/api/v1/channels/${name}`, {
        method: 'PATCH',
        body: { record: box.checked },
      })
      box.checked = saved.record
      status.textContent = saved.record ? 'Recording on' : 'Recording off'
    } catch (err) {
      box.checked = !box.checked
      errorTo(status, err)
    }
  })
}

async function loadSessions(name: string): Promise<void> {
  const rows = await api<StreamSession[]>(`/api/v1/channels/${name}/sessions?limit=20`)
  must('#sessions').replaceChildren(
    table(
      ['Started', 'Length', 'Ended', 'Peak viewers'],
      rows.map((s) => [
        dateTime(s.startedAt),
        liveFor(s.durationS * 1000),
        s.endedAt
          ? (END_REASONS[s.endReason ?? ''] ?? s.endReason ?? 'Ended')
          : h('span', { class: 'badge badge-live' }, 'Live now'),
        String(s.peakViewers),
      ]),
      'No broadcasts yet. Your streams will be listed here.',
    ),
  )
}

// ---- moderators --------------------------------------------------------------------------------

async function loadMods(name: string): Promise<void> {
  const mods = await api<{ username: string; since: string }[]>(`/api/v1/channels/${name}/moderators`)
  const list = must('#mod-list')
  list.replaceChildren(
    ...(mods.length === 0
      ? [h('li', { class: 'muted' }, 'No moderators yet.')]
      : mods.map((m) =>
          h(
            'li',
            { class: 'list-row' },
            h('a', { href: `/c/${m.username}` }, m.username),
            h('span', { class: 'muted small' }, `since ${dateTime(m.since)}`),
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-ghost btn-sm',
                'data-unmod': m.username,
                'aria-label': `Remove ${m.username} as moderator`,
              },
              'Remove',
            ),
          ),
        )),
  )
}

function initMods(name: string): void {
  const error = must('#mod-error')
  const input = must<HTMLInputElement>('#mod-input')
  must<HTMLFormElement>('#mod-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    const username = input.value.trim().toLowerCase()
    if (!/^[a-z0-9_]{3,24}$/.test(username)) {
      error.textContent = 'Usernames are 3–24 lower-case letters, digits and _.'
      return
    }
    try {
      await api(`/api/v1/channels/${name}/moderators/${username}`, { method: 'PUT' })
      input.value = ''
      await loadMods(name)
    } catch (err) {
      errorTo(error, err, { NOT_FOUND: `There is no user called ${username}.` })
    }
  })
  must('#mod-list').addEventListener('click', async (e) => {
    const button = (e.target as Element).closest<HTMLButtonElement>('[data-unmod]')
    if (!button) return
    try {
      await api(`/api/v1/channels/${name}/moderators/${button.dataset.unmod}`, { method: 'DELETE' })
      await loadMods(name)
    } catch (err) {
      errorTo(error, err)
    }
  })
}

// ---- devices -----------------------------------------------------------------------------------

function deviceName(ua: string | null): string {
  if (!ua) return 'Unknown device'
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser'
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : ''
  return os ? `${browser} on ${os}` : browser
}

async function loadDevices(): Promise<void> {
  const devices = await api<Device[]>('/api/v1/auth/sessions')
  must('#devices-list').replaceChildren(
    table(
      ['Device', 'Signed in', 'Last active', ''],
      devices.map((d) => [
        h(
          'span',
          {},
          deviceName(d.userAgent),
          d.current ? h('span', { class: 'tag tag-accent' }, 'This browser') : null,
        ),
        dateTime(d.createdAt),
        d.lastUsedAt ? dateTime(d.lastUsedAt) : '—',
        d.current
          ? ''
          : h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-end': d.id }, 'Sign out'),
      ]),
      'No other sessions.',
    ),
  )
}

must('#devices-list').addEventListener('click', async (e) => {
  const button = (e.target as Element).closest<HTMLButtonElement>('[data-end]')
  if (!button) return
  button.disabled = true
  try {
    await api(`/api/v1/auth/sessions/${button.dataset.end}`, { method: 'DELETE' })
  } finally {
    await loadDevices()
  }
})

// ---- start -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const session = await getSession()
  if (!session) {
    location.replace(`/login?next=${encodeURIComponent('/dashboard')}`)
    return
  }
  const me = await api<Me>('/api/v1/me')
  const name = me.username
  must('#dash-whoami').replaceChildren(
    'Signed in as ',
    h('strong', {}, name),
    ' · your channel is ',
    h('a', { href: `/c/${name}` }, `${location.host}/c/${name}`),
  )
  if (!me.emailVerified) {
    must('#verify-email').textContent = me.email
    must('#verify-banner').hidden = false
    const resend = must<HTMLButtonElement>('#resend-verification')
    resend.addEventListener('click', async () => {
      resend.disabled = true
      try {
        await api('/api/v1/auth/resend-verification', { method: 'POST' })
        resend.textContent = 'Sent — check your inbox'
      } catch (err) {
        resend.textContent =
          err instanceof ApiError && err.code === 'RATE_LIMITED'
            ? 'Wait a minute before asking again'
            : describe(err)
      }
    })
  }
  const ch = await loadChannel(name)
  initTitle(name, ch)
  initRecord(name, ch)
  initMods(name)
  initTokens()
  initIdentities()
  must('#channel-link').replaceChildren(
    'Viewers find you at ',
    h('a', { href: `/c/${name}` }, `/c/${name}`),
    '.',
  )
  const settle = (p: Promise<unknown>, where: string) =>
    p.catch((err: unknown) => must(where).replaceChildren(h('p', { class: 'field-error' }, describe(err))))
  await Promise.all([
    settle(loadKeys(), '#keys'),
    settle(loadMods(name), '#mod-list'),
    settle(loadSessions(name), '#sessions'),
    settle(loadDevices(), '#devices-list'),
    settle(loadTokens(), '#tokens-list'),
    settle(loadIdentities(), '#identities-list'),
    settle(initWebhooks(), '#webhooks'),
  ])
  must('#dashboard').dataset.ready = 'true'
  setInterval(() => {
    if (!document.hidden) void loadChannel(name).catch(() => {})
  }, 10_000)
}

main().catch((err: unknown) => {
  must('#dash-whoami').replaceChildren(
    h('span', { class: 'field-error' }, `Could not load your dashboard: ${describe(err)}`),
  )
})
