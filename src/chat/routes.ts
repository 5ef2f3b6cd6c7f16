/**
 * @module chat/routes — chat over HTTP: WebSocket tickets (`/api/v1/chat/tickets`) and the
 * channel's chat administration (`/api/v1/channels/:name/{chat,moderators,bans}`). The verbs are
 * the same ones the WebSocket frames call (moderation.ts); only the error mapping differs.
 */
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { ChannelParam } from '../channels/schemas.js'
import { channels } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AppEnv, AuthEnv } from '../http/env.js'
import { AppError, type ErrorCode, NotFoundError } from '../http/errors.js'
import { requireUser, requireVerified } from '../http/middleware/auth.js'
import { validate } from '../http/validate.js'
import { rateLimit } from '../rate-limit/middleware.js'
import {
  type Actor,
  type ChannelRef,
  getChatSettings,
  listBans,
  listModerators,
  requireModerator,
  roleIn,
  setModerator,
  updateChatSettings,
} from './moderation.js'
import { ChatError } from './protocol.js'
import { ChatSettingsBody, ModeratorParam } from './schemas.js'
import { issueTicket } from './tickets.js'

const HTTP_CODE: Partial<Record<ChatError['code'], ErrorCode>> = {
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  VALIDATION: 'VALIDATION',
  UNAUTHORIZED: 'UNAUTHORIZED',
}

/** ChatError → the HTTP API's AppError, so onError renders it like every other error. */
async function http<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof ChatError) throw new AppError(HTTP_CODE[err.code] ?? 'BAD_REQUEST', err.message)
    throw err
  }
}

export async function channelRef(deps: Deps, name: string): Promise<ChannelRef> {
  const [ch] = await deps.db
    .select({ id: channels.id, name: channels.name, ownerId: channels.ownerId })
    .from(channels)
    .where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  return ch
}

async function actorFor(
  deps: Deps,
  ch: ChannelRef,
  user: AuthEnv['Variables']['user'],
  ip: string,
): Promise<Actor> {
  return { userId: user.id, username: '', role: await roleIn(deps, ch, user), ip }
}

export const chatRoutes = (deps: Deps) =>
  new Hono<AppEnv>().post(
    '/tickets',
    requireUser(deps, 'chat:write'),
    requireVerified(deps),
    rateLimit<AuthEnv>(deps, { name: 'chat-ticket', max: 30, windowMs: 60_000 }, (c) => c.var.user.id),
    async (c) => {
      const { user } = c.var as AuthEnv['Variables']
      return c.json(await issueTicket(deps, { userId: user.id, sid: user.sid }), 201)
    },
  )

export const channelChatRoutes = (deps: Deps) =>
  new Hono<AuthEnv>()
    .get('/:name/chat', requireUser(deps, 'channel:read'), validate('param', ChannelParam), async (c) => {
      const ch = await channelRef(deps, c.req.valid('param').name)
      return c.json(
        await http(async () => {
          requireModerator(await actorFor(deps, ch, c.var.user, c.var.clientIp))
          return getChatSettings(deps, ch)
        }),
      )
    })
    .patch(
      '/:name/chat',
      requireUser(deps, 'chat:write'),
      validate('param', ChannelParam),
      validate('json', ChatSettingsBody),
      async (c) => {
        const ch = await channelRef(deps, c.req.valid('param').name)
        const actor = await actorFor(deps, ch, c.var.user, c.var.clientIp)
        return c.json(await http(() => updateChatSettings(deps, ch, actor, c.req.valid('json'))))
      },
    )
    .get(
      '/:name/moderators',
      requireUser(deps, 'channel:read'),
      validate('param', ChannelParam),
      async (c) => {
        const ch = await channelRef(deps, c.req.valid('param').name)
        return c.json(
          await http(async () => {
            requireModerator(await actorFor(deps, ch, c.var.user, c.var.clientIp))
            return listModerators(deps, ch)
          }),
        )
      },
    )
    .put(
      '/:name/moderators/:username',
      requireUser(deps, 'chat:write'),
      validate('param', ModeratorParam),
      async (c) => {
        const p = c.req.valid('param')
        const ch = await channelRef(deps, p.name)
        await http(async () =>
          setModerator(deps, ch, await actorFor(deps, ch, c.var.user, c.var.clientIp), p.username, true),
        )
        return c.body(null, 204)
      },
    )
    .delete(
      '/:name/moderators/:username',
      requireUser(deps, 'chat:write'),
      validate('param', ModeratorParam),
      async (c) => {
        const p = c.req.valid('param')
        const ch = await channelRef(deps, p.name)
        await http(async () =>
          setModerator(deps, ch, await actorFor(deps, ch, c.var.user, c.var.clientIp), p.username, false),
        )
        return c.body(null, 204)
      },
    )
    .get('/:name/bans', requireUser(deps, 'channel:read'), validate('param', ChannelParam), async (c) => {
      const ch = await channelRef(deps, c.req.valid('param').name)
      return c.json(
        await http(async () => {
          requireModerator(await actorFor(deps, ch, c.var.user, c.var.clientIp))
          return listBans(deps, ch)
        }),
      )
    })
