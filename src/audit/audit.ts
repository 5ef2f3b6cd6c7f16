/** @module audit — append-only audit rows for security and moderation events. */
import type { Db, Tx } from '../db/client.js'
import { auditEvents } from '../db/schema/index.js'

export type AuditEvent = {
  type: string
  userId?: string | null
  actorId?: string | null
  ip?: string | null
  data?: Record<string, unknown>
}

export async function recordAudit(db: Db | Tx, event: AuditEvent): Promise<void> {
  await db.insert(auditEvents).values({
    type: event.type,
    userId: event.userId ?? null,
    actorId: event.actorId ?? null,
    ip: event.ip ?? null,
    data: event.data ?? {},
  })
}
