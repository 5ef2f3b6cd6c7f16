/**
 * @module chat/rules — the channel's message rules as pure functions (no I/O): text clean-up,
 * length, emote-only and blocked terms. Who is exempt is decided by the caller (send.ts).
 */
import { ChatError, type PublicSettings } from './protocol.js'

export type ChannelRules = PublicSettings & { blockedTerms: string[] }

// C0/C1 controls and the bidi overrides that let a message re-order text around it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g
const LINE_BREAKS = /[\t\n\r\u2028\u2029]+/g

/** One line of visible text: controls and bidi overrides removed, line breaks become spaces. */
export function cleanText(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(CONTROLS, '').trim()
}

/** `:shortcode:` or a run of emoji (with modifiers, joiners and variation selectors). */
const EMOTE =
  /^(?::[a-z0-9_]{2,32}:|(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}|\u200d|\ufe0f|\u20e3)+)$/u

export function isEmoteOnly(text: string): boolean {
  const tokens = text.split(/\s+/).filter(Boolean)
  return tokens.length > 0 && tokens.every((t) => EMOTE.test(t))
}

/** Case- and width-insensitive: "ＢＡＤ" and "Bad" both match the term "bad". */
export function normalizeForMatch(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ')
}

export function findBlockedTerm(text: string, terms: readonly string[]): string | null {
  if (terms.length === 0) return null
  const haystack = normalizeForMatch(text)
  for (const term of terms) {
    const needle = normalizeForMatch(term).trim()
    if (needle && haystack.includes(needle)) return term
  }
  return null
}

/**
 * Applies the channel's content rules to already-cleaned text; throws the ChatError the sender
 * sees. `privileged` (owner, moderators, admins) skips emote-only and blocked terms, as on Twitch.
 */
export function checkContent(text: string, rules: ChannelRules, privileged: boolean): void {
  if (text.length === 0) throw new ChatError('VALIDATION', 'text: message is empty')
  if (text.length > rules.maxMessageLength) {
    throw new ChatError(
      'MESSAGE_TOO_LONG',
      `messages in this channel are at most ${rules.maxMessageLength} characters`,
    )
  }
  if (privileged) return
  if (rules.emoteOnly && !isEmoteOnly(text))
    throw new ChatError('EMOTE_ONLY', 'this channel is in emote-only mode')
  // The term itself is not echoed: that would teach spammers the list.
  if (findBlockedTerm(text, rules.blockedTerms))
    throw new ChatError('BLOCKED_TERM', 'your message contains a term this channel does not allow')
}
