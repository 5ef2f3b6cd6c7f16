/**
 * @module chat/connection — one WebSocket on this instance: what it may do, what it has been
 * sent, and the three ways it can be cut off (too slow, flooding, oversize frames).
 *
 * Kept small on purpose: an idle socket must cost a few KB, so per-socket state is plain fields
 * (no per-socket timers or closures); heartbeats and presence run from the hub's shared timers.
 */
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import * as wsModule from 'ws'
import type { QoeSocketState } from '../analytics/qoe-report.js'
import { type ChatRole, CloseCode, type You } from './protocol.js'

export type Identity = { userId: string; username: string; sid: string; siteRole: 'user' | 'admin' }

/** A framed message (see textFrame); seq 0 marks one without a sequence (viewers, moderation, stream events). */
export type Pending = [seq: number, frame: Buffer]

const OPEN = 1

// ws exports its frame builder (`Sender.frame`, public in ws 8) but @types/ws does not declare it.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] }
}

/**
 * The complete WebSocket text frame for `payload`. Server frames are never masked, so one
 * broadcast is framed once and the very same bytes are written to every socket (the "prepared
 * message" of uWebSockets and gorilla/websocket). Safe to mix with ws's own sends because,
 * without permessage-deflate, ws writes each frame to the socket synchronously and whole.
 */
export function textFrame(payload: Buffer): Buffer {
  return Buffer.concat(
    Sender.frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }),
  )
}

export type ConnLimits = {
  maxBufferedBytes: number
  maxFrameBytes: number
  floodPerS: number
  floodBurst: number
}

export class Conn {
  /** 'syncing' until the welcome is out: live frames queue in `pending` meanwhile. */
  state: 'syncing' | 'live' | 'closed' = 'syncing'
  pending: Pending[] | null = []
  /** Highest chat seq this socket has been sent (welcome or live). */
  lastSeq = 0
  /** Everything with seq ≥ floorSeq has been (or will be) sent; resume fills in below it. */
  floorSeq = 1
  role: ChatRole = 'user'
  /** ms since epoch; Infinity = banned, 0 = free to chat. */
  restrictedUntil = 0
  followedSince: number | null = null
  /** The viewer count this socket was last told (welcome or push); counts are pushed only on change. */
  viewers = -1
  /** The stream session this viewer was last counted for in unique viewers. */
  countedSession: string | null = null
  alive = true
  /** Player QoE reports from this socket (analytics/qoe-report.ts); created by the first one. */
  qoe: QoeSocketState | null = null
  readonly openedAt: number
  private tokens: number
  private tokensAt: number
  /** Frames are handled one at a time, in order. */
  queue: Promise<void> = Promise.resolve()

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    /** The TCP socket under `ws`, for write batching. */
    readonly socket: Duplex,
    readonly channel: string,
    readonly identity: Identity | null,
    readonly viewerKey: string,
    private readonly limits: ConnLimits,
    now: number,
  ) {
    this.tokens = limits.floodBurst
    this.tokensAt = now
    this.openedAt = now
  }

  /** A getter, not a field read, so checks after an await are not narrowed away by TypeScript. */
  get closed(): boolean {
    return this.state === 'closed'
  }

  get privileged(): boolean {
    return this.role !== 'user'
  }

  you(): You | null {
    if (!this.identity) return null
    const r = this.restrictedUntil
    return {
      username: this.identity.username,
      role: this.role,
      bannedUntil: r === 0 ? null : r === Number.POSITIVE_INFINITY ? 'forever' : new Date(r).toISOString(),
      followingSince: this.followedSince === null ? null : new Date(this.followedSince).toISOString(),
    }
  }

  /** Tells the socket its standing changed (role, ban, timeout, follow). */
  sendYou(): void {
    const you = this.you()
    if (you && this.state === 'live') this.sendJson({ type: 'you', ...you })
  }

  /** Sends a prepared frame (textFrame), or queues it while the welcome is being prepared. */
  deliver(frame: Buffer, seq = 0): void {
    if (this.state === 'live') {
      if (seq !== 0) {
        if (seq <= this.lastSeq) return // already in the welcome history
        this.lastSeq = seq
      }
      this.write(frame)
    } else if (this.state === 'syncing') {
      this.pending!.push([seq, frame])
      // A socket that cannot even finish its welcome must not queue without bound either.
      if (this.pending!.length > 10_000) this.close(CloseCode.TOO_SLOW, 'too slow')
    }
  }

  /** Several frames in one write (one syscall) when a burst arrived in one turn of the event loop. */
  deliverBatch(batch: readonly Pending[]): void {
    if (batch.length === 1) {
      this.deliver(batch[0]![1], batch[0]![0])
      return
    }
    this.socket.cork()
    for (const [seq, frame] of batch) this.deliver(frame, seq)
    this.socket.uncork()
  }

  /** Goes live: drops queued chat the welcome already covered, sends the rest in order. */
  goLive(welcomeSeq: number): void {
    if (this.state !== 'syncing') return
    const queued = this.pending ?? []
    this.pending = null
    this.state = 'live'
    this.lastSeq = welcomeSeq
    for (const [seq, frame] of queued) this.deliver(frame, seq)
  }

  /** A frame for this socket alone (welcome, acks, errors). */
  sendJson(frame: unknown): void {
    if (this.state === 'closed') return
    this.write(textFrame(Buffer.from(JSON.stringify(frame))))
  }

  private write(wire: Buffer): void {
    if (this.ws.readyState !== OPEN) return
    // Slow consumer: bytes we could not hand to the kernel pile up in Node's memory.
    if (this.ws.bufferedAmount + wire.length > this.limits.maxBufferedBytes) {
      this.close(CloseCode.TOO_SLOW, 'too slow')
      return
    }
    this.socket.write(wire)
  }

  /**
   * Admission of one inbound frame: size and flood budget. Returns false (and closes the
   * socket) when the frame must not be processed.
   */
  admitFrame(bytes: number, now: number): boolean {
    if (this.state === 'closed') return false
    this.alive = true
    if (bytes > this.limits.maxFrameBytes) {
      this.close(CloseCode.FRAME_TOO_LARGE, 'frame too large')
      return false
    }
    const { floodPerS, floodBurst } = this.limits
    this.tokens = Math.min(floodBurst, this.tokens + ((now - this.tokensAt) / 1000) * floodPerS)
    this.tokensAt = now
    if (this.tokens < 1) {
      this.close(CloseCode.FLOOD, 'too many frames')
      return false
    }
    this.tokens -= 1
    return true
  }

  /** Stops all delivery at once; the hub removes the socket when ws reports the close. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.pending = null
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
    }
    // Nothing more is queued after this; a peer that never answers the close frame is cut
    // off by ws's own close timeout, so a slow socket's memory stays bounded.
  }
}
