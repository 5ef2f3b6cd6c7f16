/**
 * Redis Cluster runs a script only if all its keys hash to one slot (else CROSSSLOT). These tests
 * hold the key layout (keys.ts) to that for every script in the code base — and fail when a new
 * script appears without saying which keys it takes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import calculateSlot from 'cluster-key-slot'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { scriptKeys as chatScriptKeys } from '../chat/scripts.js'
import { scriptKeys as liveScriptKeys } from '../live/scripts.js'
import { createKeys, fnv1a } from './keys.js'

const channelName = fc.stringMatching(/^[a-z0-9_]{1,32}$/)
const id = fc.uuid()
const prefix = fc.constantFrom('', 'test:', 'f1a2:', 'live-prod:')
const partitions = fc.constantFrom(1, 4, 16, 64)

function oneSlot(keys: string[]): boolean {
  return new Set(keys.map((k) => calculateSlot(k))).size === 1
}

/** Every multi-key script, by the name of its Lua constant, with its KEYS for a channel. */
const MULTI_KEY: Record<string, (k: ReturnType<typeof createKeys>, ch: string, id: string) => string[]> = {
  PUBLISH: (k, ch, keyId) => liveScriptKeys.publish(k, ch, keyId),
  UPDATE: (k, ch) => liveScriptKeys.update(k, ch),
  PUBLISH_DONE: (k, ch) => liveScriptKeys.publishDone(k, ch),
  END: (k, ch, keyId) => liveScriptKeys.end(k, ch, keyId),
  NOTE_PENDING_REASON: (k, ch) => liveScriptKeys.notePendingReason(k, ch),
  SEND_MESSAGE: (k, ch, userId) => chatScriptKeys.sendMessage(k, ch, userId),
  SEND_MESSAGE_UNGATED: (k, ch) => chatScriptKeys.sendMessage(k, ch),
  SEED_SEQ: (k, ch) => chatScriptKeys.seedSeq(k, ch),
}

/** Scripts over exactly one key (any slot will do): the call sites pass a single key. */
const SINGLE_KEY = new Set(['SLIDING_WINDOW', 'BACKOFF_FAIL', 'ADMIT', 'RECORD_VIEWERS'])

/** Lua shared by several scripts, not run on its own. */
const FRAGMENTS = new Set(['EMIT'])

/** Every `const NAME = \`…redis.call(…\`` in the source tree: the scripts that exist. */
function scriptsInSource(): string[] {
  const root = join(import.meta.dirname, '..')
  const names: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (e.name.endsWith('.ts') && !e.name.includes('.test.')) {
        const src = readFileSync(path, 'utf8')
        for (const m of src.matchAll(/const ([A-Z_]+) = `([^`]*)`/g))
          if (m[2]!.includes('redis.call(')) names.push(m[1]!)
      }
    }
  }
  walk(root)
  return names
}

describe('Redis Cluster key layout', () => {
  it('knows the keys of every Lua script in the code base', () => {
    const found = scriptsInSource()
    expect(found.length).toBeGreaterThanOrEqual(10)
    for (const name of found)
      expect(name in MULTI_KEY || SINGLE_KEY.has(name) || FRAGMENTS.has(name), name).toBe(true)
  })

  it('puts every key of every multi-key script in one slot, for any channel, id, prefix and partition count', () => {
    fc.assert(
      fc.property(channelName, id, prefix, partitions, (ch, someId, pre, n) => {
        const k = createKeys(pre, n)
        for (const [name, keysOf] of Object.entries(MULTI_KEY)) {
          const keys = keysOf(k, ch, someId)
          if (!oneSlot(keys)) throw new Error(`${name}: ${keys.join(' ')} span slots`)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('gives every key of one channel the same slot as its partition’s streams and indexes', () => {
    fc.assert(
      fc.property(channelName, id, (ch, userId) => {
        const k = createKeys('p:')
        const ofChannel = [
          k.liveChannel(ch),
          k.liveDeadlines(ch),
          k.liveStarted(ch),
          k.kicked(ch, userId),
          k.events(ch),
          k.channelEvents(ch),
          k.presence(ch),
          k.chatTopic(ch),
          k.chatSeq(ch),
          k.chatHistory(ch),
          k.chatPersist(ch),
          k.chatRate(ch, userId),
          k.chatLast(ch, userId),
        ]
        expect(oneSlot(ofChannel)).toBe(true)
        const n = k.partitionOf(ch)
        expect(k.allEvents()[n]).toBe(k.events(ch))
        expect(k.allChatPersist()[n]).toBe(k.chatPersist(ch))
        expect(k.allLiveDeadlines()[n]).toBe(k.liveDeadlines(ch))
        expect(k.allLiveStarted()[n]).toBe(k.liveStarted(ch))
      }),
    )
  })

  it('spreads partitions over distinct slots, and channels over partitions', () => {
    const k = createKeys('', 16)
    expect(new Set(k.allEvents().map((s) => calculateSlot(s))).size).toBe(16)
    const used = new Set(Array.from({ length: 1000 }, (_, i) => k.partitionOf(`channel_${i}`)))
    expect(used.size).toBe(16)
  })

  it('hashes channels with FNV-1a, stable across processes (a restart must find the same partition)', () => {
    // Reference values of 32-bit FNV-1a.
    expect(fnv1a('')).toBe(0x811c9dc5)
    expect(fnv1a('a')).toBe(0xe40c292c)
    expect(fnv1a('foobar')).toBe(0xbf9cf968)
  })

  it('keeps the client address of a WebSocket count in its own hash tag', () => {
    const k = createKeys('x:')
    expect(calculateSlot(k.socketsOfAddress('10.0.0.1'))).toBe(calculateSlot('10.0.0.1'))
  })
})
