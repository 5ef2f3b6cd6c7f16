/**
 * @module outbox/handlers — what each outbox topic does once its transaction committed. Every
 * handler is idempotent: the worker may run it more than once (a lease that ran out, a retry after
 * a partial failure).
 */
import { eq } from 'drizzle-orm'
import { publishUserRevoked } from '../accounts/user-events.js'
import { channels } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { OutboxHandlers } from './worker.js'

type HandlerDeps = Pick<Deps, 'db' | 'redis' | 'keys' | 'live' | 'mailer'>

/** ~2 h of attempts at the 5-minute cap: then the mail is reported as given up, not retried forever. */
const MAIL_MAX_ATTEMPTS = 30

export function createOutboxHandlers(d: HandlerDeps): OutboxHandlers {
  const channelOf = async (userId: string) => {
    const [ch] = await d.db.select({ name: channels.name }).from(channels).where(eq(channels.ownerId, userId))
    return ch?.name ?? null
  }
  return {
    'mail.send': { run: (mail) => d.mailer.send(mail), maxAttempts: MAIL_MAX_ATTEMPTS },
    'stream_key.revoked': {
      async run({ keyId, userId }) {
        const channel = await channelOf(userId)
        // Ends the session only if this key is the one publishing; the offline event owes the drop.
        if (channel) await d.live.end(channel, 'key_revoked', { onlyKeyId: keyId })
      },
    },
    'user.disabled': {
      async run({ userId }) {
        await publishUserRevoked(d.redis, d.keys, { userId, reason: 'account_disabled' })
        const channel = await channelOf(userId)
        if (channel) await d.live.end(channel, 'account_disabled')
      },
    },
  }
}
