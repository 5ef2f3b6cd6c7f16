/**
 * @module accounts/user-events — tells every instance that a user's sessions ended (logout,
 * password reset, ban, disable) so each can close that user's WebSockets within a second.
 */
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'

export type UserRevokedEvent = { userId: string; reason: string; sid?: string }

export async function publishUserRevoked(redis: Redis, keys: Keys, event: UserRevokedEvent) {
  await redis.publish(keys.userRevoked(), JSON.stringify(event))
}
