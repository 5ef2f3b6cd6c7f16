import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode } from './broker.js'
import { type Conn, Conn as ConnClass } from './connection.js'
import { CloseCode, parseClientFrame } from './protocol.js'

const CODES = new Set(['BAD_FRAME', 'VALIDATION'])

describe('parseClientFrame', () => {
  it('accepts every documented client frame', () => {
    const frames = [
      { type: 'chat.send', text: 'hi' },
      { type: 'resume', afterSeq: 0 },
      { type: 'ping', ref: 7 },
      { type: 'chat.delete', id: '7f1c2d9e-3b4a-4c5d-8e6f-0a1b2c3d4e5f' },
      { type: 'mod.timeout', username: 'bob_1', seconds: 600 },
      { type: 'mod.ban', username: 'bob_1', reason: 'spam' },
      { type: 'mod.unban', username: 'bob_1' },
      { type: 'mod.clear' },
      {
        type: 'mod.settings',
        slowModeSeconds: 30,
        followersOnlyMinutes: null,
        emoteOnly: true,
        maxMessageLength: 200,
        blockedTerms: ['Bad'],
      },
    ]
    for (const f of frames)
      expect(parseClientFrame(JSON.stringify(f))).toMatchObject({
        ok: true,
        frame: f.type === 'mod.settings' ? { ...f, blockedTerms: ['bad'] } : f,
      })
  })

  it('trims chat text and bounds it to 1–500 characters after trimming', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'chat.send', text: '  hi  ' }))).toMatchObject({
      ok: true,
      frame: { text: 'hi' },
    })
    expect(parseClientFrame(JSON.stringify({ type: 'chat.send', text: '   ' }))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    })
    expect(
      parseClientFrame(JSON.stringify({ type: 'chat.send', text: ` ${'a'.repeat(500)} ` })),
    ).toMatchObject({ ok: true })
    expect(parseClientFrame(JSON.stringify({ type: 'chat.send', text: 'a'.repeat(501) }))).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION' },
    })
  })

  it('bounds timeouts to 1 s – 14 days', () => {
    const t = (seconds: number) =>
      parseClientFrame(JSON.stringify({ type: 'mod.timeout', username: 'bob_1', seconds })).ok
    expect([t(0), t(1), t(1_209_600), t(1_209_601), t(1.5)]).toEqual([false, true, true, false, false])
  })

  it('keeps the ref of an invalid frame so the client can match the error', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'chat.send', ref: 'a1' }))).toMatchObject({
      ok: false,
      ref: 'a1',
      error: { code: 'VALIDATION' },
    })
    expect(parseClientFrame(JSON.stringify({ type: 'what', ref: 3 }))).toMatchObject({
      ok: false,
      ref: 3,
      error: { code: 'BAD_FRAME' },
    })
  })

  it('never throws on random text: always a frame or a BAD_FRAME/VALIDATION error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (data) => {
          const r = parseClientFrame(data)
          if (!r.ok) expect(CODES.has(r.error.code)).toBe(true)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never throws on frames that look almost right', () => {
    const type = fc.constantFrom(
      'chat.send',
      'resume',
      'ping',
      'chat.delete',
      'mod.timeout',
      'mod.ban',
      'mod.unban',
      'mod.clear',
      'mod.settings',
      'x',
      '',
    )
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string()),
      fc.object(),
    )
    const frame = fc.record(
      {
        type,
        text: value,
        afterSeq: value,
        id: value,
        username: value,
        seconds: value,
        ref: value,
        slowModeSeconds: value,
        blockedTerms: value,
        __proto__: value,
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(frame, (f) => {
        const r = parseClientFrame(JSON.stringify(f))
        if (!r.ok) expect(CODES.has(r.error.code)).toBe(true)
        else expect(typeof r.frame.type).toBe('string')
      }),
      { numRuns: 3000 },
    )
  })

  it('accepts a qoe report from the player, with defaults for what it left out', () => {
    const f = {
      type: 'qoe',
      startupMs: 1834.5,
      playedMs: 9000,
      stalledMs: 250,
      stalls: 1,
      latencyMs: 4100,
      errors: [{ type: 'networkError', fatal: false, count: 2 }],
    }
    expect(parseClientFrame(JSON.stringify(f))).toEqual({ ok: true, frame: f })
    expect(parseClientFrame(JSON.stringify({ type: 'qoe', latencyMs: 3000 }))).toEqual({
      ok: true,
      frame: { type: 'qoe', latencyMs: 3000, playedMs: 0, stalledMs: 0, stalls: 0 },
    })
  })

  it('refuses malformed and oversized qoe reports with VALIDATION, keeping the ref', () => {
    const bad = [
      { playedMs: -1 },
      { playedMs: '9000' },
      { startupMs: 86_400_001 },
      { latencyMs: null },
      { stalls: 1.5 },
      { errors: 'lots' },
      { errors: [{ type: 'networkError', fatal: 'yes', count: 1 }] },
      { errors: [{ type: 'networkError', fatal: true, count: 0 }] },
      { errors: Array.from({ length: 11 }, () => ({ type: 'mediaError', fatal: false, count: 1 })) },
      { errors: [{ type: 'x'.repeat(33), fatal: false, count: 1 }] },
    ]
    for (const b of bad)
      expect(
        parseClientFrame(JSON.stringify({ type: 'qoe', ref: 9, ...b })),
        JSON.stringify(b),
      ).toMatchObject({
        ok: false,
        ref: 9,
        error: { code: 'VALIDATION' },
      })
    // Well-formed but far larger than any report of ours (padding a valid field): refused, not parsed.
    const padded = JSON.stringify({ type: 'qoe', ref: 'r', playedMs: 1000, pad: 'x'.repeat(2000) })
    expect(padded.length).toBeLessThan(8192) // below the socket's own limit: answered, not closed
    expect(parseClientFrame(padded)).toMatchObject({
      ok: false,
      ref: 'r',
      error: { code: 'VALIDATION', message: expect.stringContaining('1024 bytes') },
    })
  })

  it('never throws on qoe frames that look almost right', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.record({ type: fc.string(), fatal: fc.boolean(), count: fc.integer() })),
      fc.object(),
    )
    const frame = fc.record(
      {
        type: fc.constant('qoe'),
        startupMs: value,
        playedMs: value,
        stalledMs: value,
        stalls: value,
        latencyMs: value,
        errors: value,
        ref: value,
      },
      { requiredKeys: ['type'] },
    )
    fc.assert(
      fc.property(frame, (f) => {
        const r = parseClientFrame(JSON.stringify(f))
        if (!r.ok) expect(CODES.has(r.error.code)).toBe(true)
        else expect(r.frame.type).toBe('qoe')
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses binary frames with BAD_FRAME', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(parseClientFrame(bytes.buffer)).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } })
      }),
    )
  })
})

describe('a socket under random frames', () => {
  type Sent = { data?: Buffer; closed?: number }
  function fakeConn(maxFrameBytes = 8192, floodBurst = 20): [Conn, Sent] {
    const sent: Sent = {}
    const ws = {
      readyState: 1,
      bufferedAmount: 0,
      send: (data: Buffer) => {
        sent.data = data
      },
      close: (code: number) => {
        sent.closed = code
      },
      terminate: () => {},
    }
    const limits = { maxBufferedBytes: 1 << 20, maxFrameBytes, floodPerS: 5, floodBurst }
    return [
      new ConnClass(
        'c1',
        ws as never,
        { cork() {}, uncork() {}, write() {} } as never,
        'ch',
        null,
        'ip:x',
        limits,
        0,
      ),
      sent,
    ]
  }

  it('answers each frame within budget, and closes with a 45xx code otherwise — never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ minLength: 9000, maxLength: 9100 })), {
          maxLength: 40,
        }),
        (frames) => {
          const [conn, sent] = fakeConn()
          for (const f of frames) {
            const admitted = conn.admitFrame(Buffer.byteLength(f), 0)
            if (!admitted) {
              expect([CloseCode.FRAME_TOO_LARGE, CloseCode.FLOOD]).toContain(sent.closed)
              break
            }
            const r = parseClientFrame(f)
            if (!r.ok) expect(CODES.has(r.error.code)).toBe(true)
          }
        },
      ),
    )
  })
})

describe('broker envelope', () => {
  it('decodes chat and control payloads and drops anything else', () => {
    expect(decode(Buffer.from('m 12\n{"type":"chat"}'))).toMatchObject({ kind: 'message', seq: 12 })
    expect(decode(Buffer.from('m 0\n{}'))).toBeNull()
    expect(decode(Buffer.from('x\n{}'))).toBeNull()
    expect(decode(Buffer.from('i\n{"k":"cleared"}'))).toEqual({ kind: 'control', event: { k: 'cleared' } })
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decode(Buffer.from(bytes))
        if (r) expect(['message', 'control']).toContain(r.kind)
      }),
    )
  })
})
