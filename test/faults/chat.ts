/**
 * @module test/faults/chat — chat clients that live through faults the way docs/websocket.md tells
 * real clients to: reconnect when the socket drops, show the welcome history, `resume` from the
 * last seq shown. They record what they were acknowledged and what they saw, so a case can prove
 * that nothing acknowledged went missing and that resumed histories have no gaps.
 */
import WebSocket from 'ws'
import { sleep } from '../../scripts/lib/proc.js'

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever the server sent
type Frame = Record<string, any>

type Target = {
  /** The public origin (nginx), e.g. http://127.0.0.1:8080 */
  http: string
  channel: string
  /** Distinct loopback source address per client, as distinct viewers would have. */
  localAddress: string
}

/** One WebSocket: welcome first, then replies matched by `ref`. */
class Conn {
  private waiting = new Map<string, (f: Frame | null) => void>()
  private refs = 0
  readonly closed: Promise<number>

  private constructor(
    private ws: WebSocket,
    readonly welcome: Frame,
    onFrame: (f: Frame) => void,
  ) {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as Frame
      if (f.ref !== undefined && this.waiting.has(String(f.ref))) {
        this.waiting.get(String(f.ref))!(f)
        this.waiting.delete(String(f.ref))
      }
      onFrame(f)
    })
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        for (const w of this.waiting.values()) w(null)
        this.waiting.clear()
        resolve(code)
      }),
    )
  }

  static open(url: string, t: Target, onFrame: (f: Frame) => void): Promise<Conn> {
    const ws = new WebSocket(url, { origin: t.http, localAddress: t.localAddress })
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer)
        ws.terminate()
        reject(err)
      }
      const timer = setTimeout(() => fail(new Error('no welcome within 10 s')), 10_000)
      ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)))
      ws.once('error', fail)
      ws.once('close', () => fail(new Error('closed before welcome')))
      ws.once('message', (data) => {
        clearTimeout(timer)
        ws.removeAllListeners('close')
        ws.removeAllListeners('error')
        ws.on('error', () => {})
        const welcome = JSON.parse(data.toString()) as Frame
        if (welcome.type !== 'welcome') return fail(new Error(`first frame ${welcome.type}`))
        resolve(new Conn(ws, welcome, onFrame))
      })
    })
  }

  /** The reply carrying this frame's ref; null when the socket closed, `timeout` when nothing came in time. */
  request(frame: Frame, timeoutMs = 20_000): Promise<Frame | null | 'timeout'> {
    const ref = `r${++this.refs}`
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref)
        resolve('timeout')
      }, timeoutMs)
      this.waiting.set(ref, (f) => {
        clearTimeout(timer)
        resolve(f)
      })
      this.ws.send(JSON.stringify({ ...frame, ref }))
    })
  }

  close(): void {
    this.ws.terminate()
  }
}

const wsUrl = (t: Target, ticket?: string) =>
  `${t.http.replace(/^http/, 'ws')}/ws/channels/${t.channel}${ticket ? `?ticket=${encodeURIComponent(ticket)}` : ''}`

/**
 * An anonymous viewer that never gives up: every chat it was shown (live, welcome history or
 * resume pages), and after each resume the seqs still missing — which must be none.
 */
export class Follower {
  readonly seen = new Map<number, string>()
  readonly resumeGaps: number[] = []
  readonly closeCodes: number[] = []
  resumes = 0
  private conn?: Conn
  private stopped = false
  private loop?: Promise<void>

  constructor(private t: Target) {}

  get lastSeq(): number {
    return Math.max(0, ...this.seen.keys())
  }

  private show(frames: Frame[]) {
    for (const f of frames) if (typeof f.seq === 'number') this.seen.set(f.seq, f.id)
  }

  async start(): Promise<void> {
    this.conn = await Conn.open(wsUrl(this.t), this.t, (f) => f.type === 'chat' && this.show([f]))
    this.show(this.conn.welcome.history)
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.closeCodes.push(await this.conn!.closed)
      const lastShown = this.lastSeq
      for (;;) {
        if (this.stopped) return
        try {
          this.conn = await Conn.open(wsUrl(this.t), this.t, (f) => f.type === 'chat' && this.show([f]))
          break
        } catch {
          await sleep(250) // the app or Redis is still down
        }
      }
      await this.resumeFrom(lastShown).catch(() => {})
    }
  }

  /** docs/websocket.md "Resuming without gaps": welcome history, then pages after lastShown. */
  async resumeFrom(lastShown: number): Promise<void> {
    const welcome = this.conn!.welcome
    this.show(welcome.history)
    this.resumes++
    for (;;) {
      const page = await this.conn!.request({ type: 'resume', afterSeq: lastShown })
      if (!page || page === 'timeout') return // closed again (or stuck): the next round resumes
      if (page.type !== 'history') throw new Error(`resume answered ${JSON.stringify(page)}`)
      this.show(page.messages)
      if (!page.more) break
    }
    for (let seq = 1; seq <= welcome.seq; seq++) if (!this.seen.has(seq)) this.resumeGaps.push(seq)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.conn?.close()
    await this.loop
    this.conn?.close() // one opened meanwhile
  }
}

export type Acked = { seq: number; id: string; text: string }

/**
 * A signed-in chatter sending a numbered message every `everyMs`, reconnecting with a fresh ticket
 * when its socket drops. Only acknowledged messages are promises the server made.
 */
export class Sender {
  readonly acked: Acked[] = []
  readonly refused = new Map<string, number>()
  /** Sends whose socket closed before an answer. */
  unanswered = 0
  /** Sends with no answer at all within 20 s while the socket stayed open. */
  timedOut = 0
  /** chat.send frames sent, answered or not. */
  attempts = 0
  /** When the send still waiting for its answer went out (0: none waiting). */
  pendingSince = 0
  private conn?: Conn
  private stopped = false
  private loop?: Promise<void>
  private n = 0

  constructor(
    private t: Target,
    private auth: Record<string, string>,
    private everyMs = 150,
  ) {}

  private async connect(): Promise<void> {
    for (;;) {
      if (this.stopped) return
      try {
        const res = await fetch(`${this.t.http}/api/v1/chat/tickets`, { method: 'POST', headers: this.auth })
        if (res.status !== 201) throw new Error(`ticket: HTTP ${res.status}`)
        const { ticket } = (await res.json()) as { ticket: string }
        this.conn = await Conn.open(wsUrl(this.t, ticket), this.t, () => {})
        return
      } catch {
        await sleep(250)
      }
    }
  }

  async start(): Promise<void> {
    await this.connect()
    this.loop = this.run()
  }

  /** Resolves once `count` more messages were acknowledged (chat is working again). */
  async acks(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acked.length + count
    const deadline = Date.now() + timeoutMs
    while (this.acked.length < target) {
      if (Date.now() > deadline) throw new Error(`chat: fewer than ${count} acks within ${timeoutMs} ms`)
      await sleep(50)
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const text = `m${++this.n}`
      this.attempts++
      this.pendingSince = Date.now()
      const answer = await this.conn!.request({ type: 'chat.send', text })
      this.pendingSince = 0
      const reply = answer === 'timeout' ? null : answer
      if (reply?.type === 'ack') this.acked.push({ seq: reply.seq, id: reply.id, text })
      else if (reply?.type === 'error') this.refused.set(reply.code, (this.refused.get(reply.code) ?? 0) + 1)
      else if (answer === 'timeout') this.timedOut++
      else this.unanswered++ // outcome unknown to the client: not a promise
      if (this.stopped) return
      if (!reply) {
        this.conn!.close()
        await this.connect()
      } else await sleep(this.everyMs)
    }
  }

  /** Resolves once chat was tried during a fault: `count` more sends went out, or one hangs for `stuckMs`. */
  async tried(count: number, stuckMs = 3000): Promise<void> {
    const target = this.attempts + count
    while (this.attempts < target && !(this.pendingSince && Date.now() - this.pendingSince > stuckMs)) {
      await sleep(50)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.conn?.close() // unblocks a send waiting for its answer
    await this.loop
    this.conn?.close() // one opened meanwhile
  }
}
