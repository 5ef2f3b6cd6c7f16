/** @module db/schema — every table, one file each. */

export * from './api-tokens.js'
export * from './audit-events.js'
export * from './auth-sessions.js'
export * from './channels.js'
export * from './chat.js'
export * from './email-tokens.js'
export * from './identities.js'
export * from './outbox.js'
export * from './stream-keys.js'
export * from './stream-sessions.js'
export * from './users.js'
export * from './webhooks.js'
