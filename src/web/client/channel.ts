/**
 * @module web/client/channel — `/c/:name`: keeps the server-rendered page live. The chat socket
 * drives everything that changes: live/reconnecting/offline (player started and stopped without a
 * reload), the viewer count, chat, moderation and the sender's own standing.
 */
import type { ChannelView } from '../../channels/service.js'
import type { ChannelPageData } from '../pages/channel.js'
import { uptime, viewersLabel } from '../shared/format.js'
import { api, describe } from './api.js'
import { ChatSocket, type Identity, type ServerFrame, type StreamStatus, type You } from './chat-socket.js'
import { ChatView, type ModAction } from './chat-view.js'
import { h, must, pageData } from './dom.js'
import { initNav } from './nav.js'
import { createPlaybackGrant } from './playback-grant.js'
import { createPlayer } from './player.js'
import { QOE_REF_PREFIX, QoeTracker } from './qoe.js'
import { getSession } from './session.js'

initNav()
const data = pageData<ChannelPageData>()
const name = data.channel.name
const watch = must('#watch')
const video = must<HTMLVideoElement>('#video')
const waitingText = must('#waiting-text')
const unmute = must<HTMLButtonElement>('#unmute')
const viewers = must('#viewers')
const uptimeEl = must('#uptime')
const titleEl = must('#channel-title')
const chatStatus = must('#chat-status')
const form = must<HTMLFormElement>('#chat-form')
const input = must<HTMLInputElement>('#chat-input')
const note = must('#chat-note')

let status: StreamStatus = data.channel.status
let since: number | null = data.channel.startedAt ? Date.parse(data.channel.startedAt) : null
let you: You | null = null
let identity: Identity = 'anonymous'

// ---- player and live state -------------------------------------------------------------------

// A private channel plays only under a grant for the signed-in viewer (the server rendered a
// shell without its state: it cannot know who is looking).
const isPrivate = data.channel.visibility === 'private'
const grant = isPrivate ? createPlaybackGrant(name) : null
const source = grant ? { src: grant.src, rewriteUrl: grant.rewrite } : data.channel.playback.hls
const player = createPlayer(video, source, data.hlsWorker, {
  onWaiting: (waiting) => watch.classList.toggle('is-waiting', waiting),
  onMuted: (muted) => {
    unmute.hidden = !muted || video.paused
  },
  onError: (type, fatal) => qoe.error(type, fatal),
})
// Declared before the socket exists; sends only once it is open (reports wait until then).
const qoe = new QoeTracker(
  video,
  () => player.latencyS(),
  (frame) => socket.send(frame) !== null,
)
must('#player').dataset.engine = player.engine
if (player.engine === 'none') {
  waitingText.replaceChildren(
    'This browser cannot play HLS here. Open ',
    h('a', { href: data.channel.playback.hls }, 'the stream'),
    ' in VLC or Safari.',
  )
}
unmute.addEventListener('click', () => {
  video.muted = false
  if (video.volume === 0) video.volume = 1
  unmute.hidden = true
  void video.play().catch(() => {})
})

function tickUptime(): void {
  uptimeEl.textContent = since === null ? '' : uptime(Date.now() - since)
}
setInterval(tickUptime, 1000)

async function refreshChannel(): Promise<void> {
  try {
    const ch = await api<ChannelView>(`/api/v1/channels/${name}`, { auth: isPrivate })
    since = ch.startedAt ? Date.parse(ch.startedAt) : since
    titleEl.textContent = ch.title || (ch.live ? 'Live now' : 'No stream title yet')
    tickUptime()
  } catch {
    // the title and clock are cosmetic; the socket has the state that matters
  }
}

function setStatus(next: StreamStatus, startedAt?: string, initial = false): void {
  const was = initial ? 'offline' : status
  status = next
  watch.dataset.state = next
  if (startedAt) since = Date.parse(startedAt)
  if (next === 'offline') {
    since = null
    player.stop()
    qoe.stopped()
    unmute.hidden = true
  } else if (next === 'reconnecting') {
    waitingText.textContent = 'The broadcaster is reconnecting…'
    watch.classList.add('is-waiting')
  } else {
    waitingText.textContent = 'Loading the stream…'
    // The server rendered a private channel's shell without a poster: its audience's is under the grant.
    if (grant) video.poster = `${grant.thumbnail()}?t=${Math.floor(Date.now() / 30_000)}`
    // A new or resumed session may restart the playlist: start clean rather than stall on the old one.
    if (was !== 'live' || startedAt) {
      player.start()
      // Startup counts from page open when the page opened on a live stream, else from now.
      qoe.started(initial)
    }
  }
  tickUptime()
  document.title = `${next === 'offline' ? name : `${name} is live`} · live`
}

// ---- chat --------------------------------------------------------------------------------------

const view = new ChatView(must('#chat-log'), (action) => moderate(action))
view.empty('Welcome to the chat! Say hello.')

const socket = new ChatSocket(name, {
  onState(state, who) {
    identity = who
    chatStatus.textContent = state === 'open' ? '' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…'
    chatStatus.dataset.state = state
    if (state !== 'open') form.classList.add('is-offline')
    else form.classList.remove('is-offline')
    renderComposer()
  },
  onFrame: (frame) => onFrame(frame),
  onGapFilled(messages, more) {
    for (const m of messages) socket.noteSeq(m.seq)
    view.add(messages)
    if (more && messages[0]) view.gap(messages[0].seq)
  },
})

function setViewers(n: number): void {
  viewers.dataset.count = String(n)
  viewers.textContent = viewersLabel(n)
}

function onFrame(f: ServerFrame): void {
  switch (f.type) {
    case 'welcome':
      for (const m of f.history) socket.noteSeq(m.seq)
      socket.noteSeq(f.seq)
      view.add(f.history)
      setViewers(f.viewers)
      setYou(f.you)
      if (f.status !== status) setStatus(f.status)
      if (f.status !== 'offline' && since === null) void refreshChannel()
      return
    case 'chat':
      socket.noteSeq(f.seq)
      view.add([f], f.user.username === you?.username)
      return
    case 'chat.deleted':
      view.deleted(f.id)
      return
    case 'chat.cleared':
      view.cleared()
      return
    case 'user.timedout':
      view.hideFrom(f.username)
      view.system(`${f.username} was timed out for ${Math.round(f.seconds / 60) || 1} min.`)
      return
    case 'user.banned':
      view.hideFrom(f.username)
      view.system(`${f.username} was banned.`, { label: 'Unban', mod: 'unban', user: f.username })
      return
    case 'user.unbanned':
      view.system(`${f.username} was unbanned.`)
      return
    case 'you':
      setYou(f)
      return
    case 'viewers':
      setViewers(f.count)
      return
    case 'stream.online':
      setStatus('live', f.startedAt)
      void refreshChannel()
      return
    case 'stream.reconnecting':
      setStatus('reconnecting')
      return
    case 'stream.offline':
      setStatus('offline')
      return
    case 'error':
      // A refused QoE report is the player's business, not the viewer's.
      if (typeof f.ref === 'string' && f.ref.startsWith(QOE_REF_PREFIX)) return
      onChatError(f.code, f.message, f.ref, f.retryAfterMs)
      return
    default:
      return
  }
}

// ---- composer ----------------------------------------------------------------------------------

/** Texts sent but not yet acknowledged, by ref: put back in the box if the server refuses them. */
const unsent = new Map<number | string, string>()
let noteTimer: number | undefined

function flash(text: string, kind: 'error' | 'info' = 'error'): void {
  clearTimeout(noteTimer)
  note.hidden = false
  note.className = `chat-note chat-note-${kind}`
  note.replaceChildren(text)
  noteTimer = window.setTimeout(renderComposer, 6000)
}

function setYou(next: You | null): void {
  you = next
  view.setMe(next ? { username: next.username, role: next.role } : null)
  renderComposer()
}

function bannedText(): string | null {
  if (!you?.bannedUntil) return null
  if (you.bannedUntil === 'forever') return 'You are banned from this chat.'
  const left = Date.parse(you.bannedUntil) - Date.now()
  return left > 0 ? `You are timed out for ${Math.ceil(left / 60_000)} more min.` : null
}

function renderComposer(): void {
  clearTimeout(noteTimer)
  note.className = 'chat-note'
  const signIn = [
    h('a', { href: `/login?next=${encodeURIComponent(`/c/${name}`)}` }, 'Log in'),
    ' or ',
    h('a', { href: '/signup' }, 'sign up'),
    ' to chat.',
  ]
  if (identity === 'unverified') {
    form.hidden = true
    note.hidden = false
    note.replaceChildren(
      'Confirm your email address to chat. ',
      h('a', { href: '/dashboard' }, 'Resend the link'),
    )
    return
  }
  if (identity !== 'signed-in' || !you) {
    form.hidden = true
    note.hidden = false
    if (chatStatus.dataset.state === 'open') note.replaceChildren(...signIn)
    return
  }
  form.hidden = false
  const banned = bannedText()
  input.disabled = banned !== null
  form.querySelector('button')!.disabled = banned !== null
  input.placeholder = banned ?? 'Send a message'
  note.hidden = true
}

form.addEventListener('submit', (e) => {
  e.preventDefault()
  const text = input.value.trim()
  if (!text) return
  const ref = socket.send({ type: 'chat.send', text })
  if (ref === null) {
    flash('Not connected yet; try again in a moment.')
    return
  }
  unsent.set(ref, text)
  input.value = ''
  setTimeout(() => unsent.delete(ref), 30_000)
})

function onChatError(code: string, message: string, ref?: number | string, retryAfterMs?: number): void {
  const text = ref !== undefined ? unsent.get(ref) : undefined
  if (ref !== undefined) unsent.delete(ref)
  if (text !== undefined && input.value === '') input.value = text
  const wait = retryAfterMs ? ` (${Math.ceil(retryAfterMs / 1000)} s)` : ''
  const friendly: Record<string, string> = {
    SLOW_MODE: `Slow mode is on: wait a moment${wait}.`,
    RATE_LIMITED: `You're sending messages too quickly${wait}.`,
    DUPLICATE: 'You just said that.',
    FOLLOWERS_ONLY: 'This chat is for followers only.',
    EMOTE_ONLY: 'This chat is in emote-only mode.',
    BLOCKED_TERM: 'That message contains a blocked word.',
  }
  flash(friendly[code] ?? `${message.charAt(0).toUpperCase()}${message.slice(1)}.`)
  if (code === 'BANNED' || code === 'TIMED_OUT') renderComposer()
}

function moderate(action: ModAction): void {
  const frame =
    action.kind === 'delete'
      ? { type: 'chat.delete', id: action.id }
      : action.kind === 'timeout'
        ? { type: 'mod.timeout', username: action.username, seconds: action.seconds }
        : action.kind === 'ban'
          ? { type: 'mod.ban', username: action.username }
          : { type: 'mod.unban', username: action.username }
  if (socket.send(frame) === null) flash('Not connected; try again in a moment.')
}

// ---- follow ------------------------------------------------------------------------------------

async function initFollow(): Promise<void> {
  const link = document.getElementById('follow')
  const session = await getSession()
  if (!link || !session) return // anonymous: the server-rendered link leads to log in
  if (session.user.username === name) {
    link.replaceWith(h('a', { class: 'btn btn-ghost', href: '/dashboard' }, 'Stream settings'))
    return
  }
  const button = h('button', { type: 'button', class: link.className, id: 'follow', 'aria-pressed': 'false' })
  button.append(...link.childNodes)
  link.replaceWith(button)
  const label = must('.follow-label', button)
  const render = (following: boolean) => {
    button.dataset.following = String(following)
    button.classList.toggle('btn-primary', !following)
    button.classList.toggle('btn-ghost', following)
    button.setAttribute('aria-pressed', String(following))
    label.textContent = following ? 'Following' : 'Follow'
  }
  try {
    render((await api<{ following: boolean }>(`/api/v1/channels/${name}/follow`)).following)
  } catch {
    render(false)
  }
  button.addEventListener('click', async () => {
    const following = button.dataset.following === 'true'
    button.disabled = true
    try {
      await api(`/api/v1/channels/${name}/follow`, { method: following ? 'DELETE' : 'POST' })
      render(!following)
    } catch (err) {
      flash(describe(err))
    } finally {
      button.disabled = false
    }
  })
}

// ---- start -------------------------------------------------------------------------------------

async function start(): Promise<void> {
  if (grant && !(await grant.ready())) {
    // Not a member (or signed out): nothing to play and no chat to join.
    must('#offline-overlay .player-overlay-text').replaceChildren(
      'This channel is private: only its members can watch. ',
      h('a', { href: `/login?next=${encodeURIComponent(`/c/${name}`)}` }, 'Log in'),
    )
    chatStatus.textContent = 'This chat is for members only.'
    return
  }
  if (isPrivate) void refreshChannel()
  if (status !== 'offline') setStatus(status, undefined, true)
  void socket.connect()
}

void start()
void initFollow()
