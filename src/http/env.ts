/** @module http/env — Hono's typed context variables. */
import type { RequestIdVariables } from 'hono/request-id'
import type { Scope } from '../api-tokens/scopes.js'
import type { Logger } from '../log.js'

export type AppEnv = { Variables: RequestIdVariables & { log: Logger; clientIp: string } }

/**
 * The one principal every route sees. `scopes` is set only for a personal access token (its grant,
 * checked per route); undefined means a signed-in session with the user's full rights.
 */
export type AuthUser = {
  id: string
  role: 'user' | 'admin'
  sid: string
  scopes?: readonly Scope[]
  tokenId?: string
}
export type AuthEnv = AppEnv & { Variables: { user: AuthUser } }
