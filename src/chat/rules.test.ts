import { describe, expect, it } from 'vitest'
import { type ChannelRules, checkContent, cleanText, findBlockedTerm, isEmoteOnly } from './rules.js'

const rules = (over: Partial<ChannelRules> = {}): ChannelRules => ({
  slowModeSeconds: 0,
  followersOnlyMinutes: null,
  emoteOnly: false,
  maxMessageLength: 500,
  blockedTerms: [],
  ...over,
})

describe('chat rules', () => {
  it('cleans control characters and bidi overrides, and turns line breaks into spaces', () => {
    expect(cleanText(' a\u0000b\u202Ec\r\nd\te ')).toBe('abc d e')
  })

  it('recognizes emote-only messages (shortcodes and emoji, with modifiers and joiners)', () => {
    expect(isEmoteOnly(':kappa: 😀 👍🏽 👨‍👩‍👧')).toBe(true)
    expect(isEmoteOnly(':kappa: hi')).toBe(false)
    expect(isEmoteOnly('')).toBe(false)
  })

  it('matches blocked terms case- and width-insensitively without echoing them', () => {
    expect(findBlockedTerm('this is ＢＡＤ stuff', ['bad'])).toBe('bad')
    expect(findBlockedTerm('all fine', ['bad'])).toBeNull()
    expect(() => checkContent('so bad', rules({ blockedTerms: ['bad'] }), false)).toThrow(
      expect.objectContaining({ code: 'BLOCKED_TERM', message: expect.not.stringContaining('bad') }),
    )
  })

  it('applies length to everyone, emote-only and blocked terms to non-moderators only', () => {
    expect(() => checkContent('x'.repeat(11), rules({ maxMessageLength: 10 }), true)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LONG' }),
    )
    expect(() => checkContent('hello', rules({ emoteOnly: true }), false)).toThrow(
      expect.objectContaining({ code: 'EMOTE_ONLY' }),
    )
    expect(() =>
      checkContent('hello', rules({ emoteOnly: true, blockedTerms: ['hell'] }), true),
    ).not.toThrow()
  })
})
