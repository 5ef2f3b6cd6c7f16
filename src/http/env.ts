/** @module http/env — Hono's typed context variables. */
import type { RequestIdVariables } from 'hono/request-id'
import type { Logger } from '../log.js'

export type AppEnv = { Variables: RequestIdVariables & { log: Logger; clientIp: string } }

export type AuthUser = { id: string; role: 'user' | 'admin'; sid: string }
export type AuthEnv = AppEnv & { Variables: { user: AuthUser } }
