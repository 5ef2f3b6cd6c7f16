/**
 * @module chat/broker — carries chat between instances over Redis pub/sub.
 *
 * Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis ≥ 7): a channel's topics live in its partition's
 * slot (redis/keys.ts), so on a Redis Cluster each message is carried by that slot's node alone
 * instead of being broadcast over the whole cluster bus.
 *
 * Delivery is at-most-once, like centrifuge's `broker.go`: a message published while an
 * instance is not subscribed (or while its subscriber connection is down) never reaches it.
 * What makes chat gap-free anyway is that every chat message is appended to the channel's
 * history stream in the same Lua step that publishes it, with its sequence number, so a socket
 * that subscribes first and then reads history misses nothing (hub.ts, history.ts).
 *
 * Envelope on `chat:{pN}:ch:<channel>`: a header line, then the payload.
 *   `m <seq>\n<chat frame JSON>`  — forwarded to sockets byte for byte (serialized once, by the sender)
 *   `i\n<ControlEvent JSON>`       — moderation and rule changes; each instance renders the frames
 */
import { z } from 'zod'
import { parseStreamEvent, type StreamEvent } from '../live/events.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { createScript } from '../redis/script.js'
import type { ChatFrame } from './protocol.js'
import { SEED_SEQ, SEND_MESSAGE, scriptKeys } from './scripts.js'

/** Validated on receipt: another instance (or version) can publish anything on these topics. */
const ControlEventSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('deleted'), id: z.string().min(1).max(64) }),
  z.object({ k: z.literal('cleared') }),
  z.object({
    k: z.literal('restricted'),
    userId: z.string().min(1),
    username: z.string().min(1),
    until: z.number().nullable(),
    seconds: z.number().optional(),
  }),
  z.object({ k: z.literal('unbanned'), userId: z.string().min(1), username: z.string().min(1) }),
  z.object({ k: z.literal('settings') }),
  z.object({ k: z.literal('moderators') }),
  /** Visibility or membership changed: re-check who may stay (visibility/access.ts). */
  z.object({ k: z.literal('audience') }),
  z.object({ k: z.literal('follow'), userId: z.string().min(1), since: z.number().nullable() }),
])
export type ControlEvent = z.infer<typeof ControlEventSchema>

export type Inbound =
  | { kind: 'message'; seq: number; frame: Buffer }
  | { kind: 'control'; event: ControlEvent }
  | { kind: 'stream'; event: StreamEvent }

export type BrokerHandler = (channel: string, msg: Inbound) => void

/** Redis-side admission (chat/send.ts decides the numbers): rate window, slow mode, duplicates. */
export type Gate = {
  /** Whose rate window and last message are checked (keys in the channel's partition). */
  userId: string
  now: number
  windowMs: number
  max: number
  slowMs: number
  duplicateMs: number
  textHash: string
  member: string
}
export type PublishOptions = {
  seedFloor: () => Promise<number>
  gate?: Gate
  /** Who the durable copy belongs to (chat/store.ts writes it to Postgres). */
  persist: { channelId: string; userId: string }
}
export type PublishResult =
  | { ok: true; seq: number }
  | { ok: false; refused: 2 | 3 | 4; retryAfterMs: number }

export interface ChatBroker {
  /**
   * Seq allocation + history append + publish + the durable copy's record, atomically
   * (scripts.ts SEND_MESSAGE), after the
   * optional admission gate in the same round trip. The frame is serialized here, once;
   * `seedFloor` supplies Postgres' highest seq if Redis lost the sequence state.
   */
  publishMessage(
    channel: string,
    msg: Omit<ChatFrame, 'type' | 'seq'>,
    opts: PublishOptions,
  ): Promise<PublishResult>
  publishControl(channel: string, event: ControlEvent): Promise<void>
  /** Resolves once Redis confirmed the subscription (to the channel's chat and stream-event topics). */
  subscribe(channel: string): Promise<void>
  unsubscribe(channel: string): Promise<void>
  onMessage(handler: BrokerHandler): void
}

const NL = 10

export function createRedisChatBroker(opts: {
  redis: Redis
  redisSub: Redis
  keys: Keys
  historyMax: number
}): ChatBroker {
  const { redis, redisSub, keys, historyMax } = opts
  const send = createScript(redis, SEND_MESSAGE)
  const seed = createScript(redis, SEED_SEQ)
  const HISTORY_TTL_MS = 7 * 24 * 3600 * 1000
  // topic name → [channel, kind]; two topics per channel (one slot), subscribed with one SSUBSCRIBE.
  const topics = new Map<string, [string, 'chat' | 'stream']>()
  let handler: BrokerHandler = () => {}

  redisSub.on('smessageBuffer', (topicBuf: Buffer, payload: Buffer) => {
    const topic = topics.get(topicBuf.toString())
    if (!topic) return
    const [channel, kind] = topic
    const msg = kind === 'chat' ? decode(payload) : decodeStream(payload)
    if (msg) handler(channel, msg)
  })

  return {
    async publishMessage(channel, msg, opts) {
      const head = `{"type":"chat","id":${JSON.stringify(msg.id)},"seq":`
      const tail = `,"user":${JSON.stringify(msg.user)},"text":${JSON.stringify(msg.text)},"ts":${JSON.stringify(msg.ts)}}`
      const g = opts.gate
      const sendKeys = scriptKeys.sendMessage(keys, channel, g?.userId)
      const args = [
        head,
        tail,
        historyMax,
        HISTORY_TTL_MS,
        g ? '1' : '0',
        g?.now ?? 0,
        g?.windowMs ?? 0,
        g?.max ?? 0,
        g?.slowMs ?? 0,
        g?.duplicateMs ?? 0,
        g?.textHash ?? '',
        g?.member ?? '',
        opts.persist.channelId,
        opts.persist.userId,
      ]
      let res = (await send(sendKeys, args)) as number[]
      if (res[0] === -1) {
        await seed(scriptKeys.seedSeq(keys, channel), [await opts.seedFloor()])
        res = (await send(sendKeys, args)) as number[]
      }
      const [outcome, value] = res as [number, number]
      if (outcome === 1) return { ok: true, seq: value }
      if (outcome === 2 || outcome === 3 || outcome === 4)
        return { ok: false, refused: outcome, retryAfterMs: value }
      throw new Error('chat sequence could not be seeded')
    },
    async publishControl(channel, event) {
      await redis.spublish(keys.chatTopic(channel), `i\n${JSON.stringify(event)}`)
    },
    async subscribe(channel) {
      const chat = keys.chatTopic(channel)
      const stream = keys.channelEvents(channel)
      topics.set(chat, [channel, 'chat'])
      topics.set(stream, [channel, 'stream'])
      await redisSub.ssubscribe(chat, stream)
    },
    async unsubscribe(channel) {
      const chat = keys.chatTopic(channel)
      const stream = keys.channelEvents(channel)
      topics.delete(chat)
      topics.delete(stream)
      await redisSub.sunsubscribe(chat, stream)
    },
    onMessage(h) {
      handler = h
    },
  }
}

/** Parses the envelope without copying the frame bytes. Unknown shapes are dropped. */
export function decode(payload: Buffer): Inbound | null {
  const nl = payload.indexOf(NL)
  if (nl < 1) return null
  const header = payload.toString('latin1', 0, nl)
  if (header.startsWith('m ')) {
    const seq = Number(header.slice(2))
    if (!Number.isSafeInteger(seq) || seq < 1) return null
    return { kind: 'message', seq, frame: payload.subarray(nl + 1) }
  }
  if (header === 'i') {
    let raw: unknown
    try {
      raw = JSON.parse(payload.toString('utf8', nl + 1))
    } catch {
      return null
    }
    const event = ControlEventSchema.safeParse(raw)
    return event.success ? { kind: 'control', event: event.data } : null
  }
  return null
}

function decodeStream(payload: Buffer): Inbound | null {
  const event = parseStreamEvent(payload.toString())
  return event ? { kind: 'stream', event } : null
}
