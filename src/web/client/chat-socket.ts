/**
 * @module web/client/chat-socket — one channel's WebSocket (docs: API.md "WebSocket"): connect
 * with a fresh single-use ticket when signed in (anonymous otherwise), reconnect with backoff,
 * and fill any gap in the chat with `resume` after a reconnect.
 *
 * Close codes 4500–4999 mean "do not reconnect as before": 4501 (session ended) reconnects
 * anonymously unless the session can be renewed; the rest wait longer before trying again.
 */

// The wire types are the server's own (type-only: nothing from the server is bundled), so the
// browser cannot drift from the protocol it speaks.
import type { ChatFrame, PublicSettings, ServerFrame } from '../../chat/protocol.js'
import { ApiError, api } from './api.js'
import { getSession } from './session.js'

export type { ChatRole, ServerFrame, You } from '../../chat/protocol.js'
export type ChatMessage = ChatFrame
export type Settings = PublicSettings
export type StreamStatus = Extract<ServerFrame, { type: 'welcome' }>['status']

export type Identity = 'anonymous' | 'signed-in' | 'unverified'

export type SocketEvents = {
  onFrame(frame: ServerFrame): void
  /** Connection state for the status line; `identity` says how this socket is signed in. */
  onState(state: 'connecting' | 'open' | 'closed', identity: Identity): void
  /** Older messages that fill a gap left by a reconnect (oldest first); `more` if some are still missing. */
  onGapFilled(messages: ChatMessage[], more: boolean): void
}

const MAX_BACKOFF_MS = 15_000

export class ChatSocket {
  private ws: WebSocket | null = null
  private attempt = 0
  private closedByUs = false
  private lastSeq = -1
  private nextRef = 1
  private identity: Identity = 'anonymous'
  private timer: number | undefined

  constructor(
    private readonly channel: string,
    private readonly events: SocketEvents,
  ) {}

  /** Highest chat seq seen; the page reports it so a reconnect knows where to resume. */
  noteSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq
  }

  get signedIn(): boolean {
    return this.identity === 'signed-in'
  }

  /** A ticket for a signed-in, confirmed user; null when anonymous (or not allowed to chat yet). */
  private async ticket(): Promise<string | null> {
    const session = await getSession()
    if (!session) {
      this.identity = 'anonymous'
      return null
    }
    try {
      const t = await api<{ ticket: string }>('/api/v1/chat/tickets', { method: 'POST' })
      this.identity = 'signed-in'
      return t.ticket
    } catch (err) {
      // Unconfirmed accounts watch like anyone else; the page tells them why they cannot type.
      this.identity =
        err instanceof ApiError && err.code === 'EMAIL_NOT_VERIFIED' ? 'unverified' : 'anonymous'
      return null
    }
  }

  async connect(): Promise<void> {
    this.closedByUs = false
    this.events.onState('connecting', this.identity)
    const ticket = await this.ticket()
    if (this.closedByUs) return
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const query = ticket ? `?ticket=${encodeURIComponent(ticket)}` : ''
    const ws = new WebSocket(`${proto}//${location.host}/ws/channels/${this.channel}${query}`)
    this.ws = ws
    ws.addEventListener('message', (e) => this.onMessage(e))
    ws.addEventListener('close', (e) => this.onClose(e))
  }

  private onMessage(e: MessageEvent): void {
    let frame: ServerFrame
    try {
      frame = JSON.parse(String(e.data)) as ServerFrame
    } catch {
      return
    }
    if (frame.type === 'welcome') {
      this.attempt = 0
      this.events.onState('open', this.identity)
      const first = frame.history[0]?.seq ?? frame.seq + 1
      const hadSome = this.lastSeq >= 0
      const gapFrom = this.lastSeq
      this.events.onFrame(frame)
      // After a reconnect, anything between what we had and the welcome's history was missed.
      if (hadSome && first > gapFrom + 1) this.send({ type: 'resume', afterSeq: gapFrom, ref: 'gap' })
      return
    }
    if (frame.type === 'history' && frame.ref === 'gap') {
      this.events.onGapFilled(frame.messages, frame.more)
      return
    }
    this.events.onFrame(frame)
  }

  private onClose(e: CloseEvent): void {
    this.ws = null
    this.events.onState('closed', this.identity)
    if (this.closedByUs) return
    let delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5)
    this.attempt++
    if (e.code === 4501) {
      // Signed out elsewhere: renew if this browser still has a session, else watch anonymously.
      void getSession(true)
      delay = 200
    } else if (e.code >= 4500 && e.code < 5000) delay = Math.max(delay, 5000)
    this.timer = window.setTimeout(() => void this.connect(), delay)
  }

  /** Sends a frame with a fresh `ref` and returns it, or null when the socket is not open. */
  send(frame: Record<string, unknown>): number | string | null {
    if (this.ws?.readyState !== WebSocket.OPEN) return null
    const ref = (frame.ref as string | number | undefined) ?? this.nextRef++
    this.ws.send(JSON.stringify({ ...frame, ref }))
    return ref
  }

  /** Reconnects now (after signing in or out) without waiting for a backoff. */
  reconnect(): void {
    clearTimeout(this.timer)
    this.attempt = 0
    if (this.ws) this.ws.close(1000, 'reconnect')
    else void this.connect()
  }

  close(): void {
    this.closedByUs = true
    clearTimeout(this.timer)
    this.ws?.close(1000, 'bye')
  }
}
