/**
 * @module chat/ws-route — `GET /ws/channels/:name`: the checks that run BEFORE the upgrade (so a
 * refusal is a plain HTTP 403/404/401/429/503 problem+json on the handshake), then the socket's
 * event wiring.
 */
import type { Socket } from 'node:net'
import { type HttpBindings, upgradeWebSocket } from '@hono/node-server'
import { eq } from 'drizzle-orm'
import { type Context, Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { WebSocket } from 'ws'
import { channels, users } from '../db/schema/index.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { AppError, ForbiddenError, NotFoundError, problem, UnauthorizedError } from '../http/errors.js'
import { refuseUpgrade } from '../http/upgrade-refusal.js'
import { mayWatch } from '../visibility/access.js'
import { Conn, type ConnLimits, type Identity } from './connection.js'
import { receive } from './dispatch.js'
import { redeemTicket } from './tickets.js'

type SocketEnv = AppEnv & { Variables: { chatIdentity: Identity | null; chatConnId: string } }

const CHANNEL_RE = /^[a-z0-9_]{3,24}$/
const CONN = Symbol('chat.conn')
type Tagged = WebSocket & { [CONN]?: Conn }
const ADMITTED = Symbol('chat.admitted')
type AdmittedSocket = Socket & { [ADMITTED]?: { connId: string; release(connId: string): void } }

/** The TCP socket's close ends the admission, whether or not the upgrade ever completed. */
function releaseOnClose(this: AdmittedSocket) {
  const a = this[ADMITTED]
  if (a) a.release(a.connId)
}

function onPong(this: Tagged) {
  const conn = this[CONN]
  if (conn) conn.alive = true
}

/**
 * Origin (browsers always send it; other clients may omit it), this instance's capacity, the
 * channel, the ticket, and last the per-address cap (it reserves a slot). A refusal on a real
 * upgrade is written to the socket as problem+json (see http/upgrade-refusal.ts).
 */
const handshake = (deps: Deps) =>
  createMiddleware<SocketEnv>(async (c, next) => {
    const socket = (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket as
      | AdmittedSocket
      | undefined
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket' || !socket)
      throw new AppError('BAD_REQUEST', 'this endpoint speaks WebSocket only')
    try {
      await admit(deps, c, socket)
    } catch (err) {
      const appErr =
        err instanceof AppError
          ? err
          : new AppError('UNAVAILABLE', 'the chat is unavailable, try again shortly')
      if (!(err instanceof AppError)) c.var.log.error({ err }, 'chat: handshake failed')
      refuseUpgrade(
        socket,
        problem(appErr.code, appErr.message, c.get('requestId'), appErr.errors),
        appErr.retryAfterS ? { 'Retry-After': String(appErr.retryAfterS) } : {},
      )
      return c.body(null, appErr.status)
    }
    await next()
  })

const instanceFull = () =>
  new AppError('UNAVAILABLE', 'this server holds as many chat connections as it can; try again shortly', {
    retryAfterS: 5,
  })

async function admit(deps: Deps, c: Context<SocketEnv>, socket: AdmittedSocket): Promise<void> {
  // Cross-site WebSocket hijacking: a page on another origin must not ride a user's ticket.
  const origin = c.req.header('origin')
  if (origin !== undefined && !deps.config.ALLOWED_ORIGINS.includes(origin))
    throw new ForbiddenError('origin not allowed')
  // Cheap before the database; admit() below re-checks atomically.
  if (deps.chat.admission.size >= deps.config.WS_MAX_CONNECTIONS) throw instanceFull()
  const name = c.req.param('name') ?? ''
  if (!CHANNEL_RE.test(name)) throw new NotFoundError('channel')
  // Read on every handshake (not from the room cache): visibility may just have changed.
  const [ch] = await deps.db
    .select({ id: channels.id, ownerId: channels.ownerId, visibility: channels.visibility })
    .from(channels)
    .where(eq(channels.name, name))
  if (!ch) throw new NotFoundError('channel')
  let identity: Identity | null = null
  const ticket = c.req.query('ticket')
  if (ticket !== undefined) {
    const claims = await redeemTicket(deps, ticket)
    if (!claims) throw new UnauthorizedError('the ticket is invalid, expired or already used')
    const [user] = await deps.db
      .select({ username: users.username, role: users.role, disabledAt: users.disabledAt })
      .from(users)
      .where(eq(users.id, claims.userId))
    if (!user || user.disabledAt) throw new UnauthorizedError('account disabled')
    identity = { userId: claims.userId, sid: claims.sid, username: user.username, siteRole: user.role }
  }
  // A private channel's chat (messages, viewer counts, live state) is for those who may watch.
  if (ch.visibility === 'private') {
    if (!identity) throw new UnauthorizedError('this channel is private: sign in to watch')
    const viewer = { id: identity.userId, role: identity.siteRole }
    if (!(await mayWatch(deps.db, viewer, ch))) throw new NotFoundError('channel')
  }
  c.set('chatIdentity', identity)
  // Last, because it takes a slot: every refusal above leaves the counts untouched.
  const connId = deps.chat.hub.nextConnId()
  const admission = deps.chat.admission
  const verdict = await admission.admit(c.var.clientIp, connId)
  if (!verdict.ok) {
    if (verdict.reason === 'instance') throw instanceFull()
    throw new AppError(
      'RATE_LIMITED',
      `too many open chat connections from your address (at most ${deps.config.WS_MAX_PER_IP})`,
      { retryAfterS: verdict.retryAfterS },
    )
  }
  socket[ADMITTED] = { connId, release: admission.release }
  socket.once('close', releaseOnClose)
  if (socket.destroyed) admission.release(connId)
  c.set('chatConnId', connId)
}

export const chatSocketRoutes = (deps: Deps) => {
  const { config } = deps
  const limits: ConnLimits = {
    maxBufferedBytes: config.CHAT_MAX_BUFFERED_BYTES,
    maxFrameBytes: config.CHAT_MAX_FRAME_BYTES,
    floodPerS: config.CHAT_FLOOD_FRAMES_PER_S,
    floodBurst: config.CHAT_FLOOD_BURST,
  }
  // One set of listeners shared by every socket (the socket finds its Conn through CONN), so an
  // idle socket carries no closures of its own.
  function onMessage(this: Tagged, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    const conn = this[CONN]
    if (!conn) return
    const bytes = Array.isArray(data)
      ? data.reduce((n, b) => n + b.length, 0)
      : data instanceof ArrayBuffer
        ? data.byteLength
        : data.length
    receive(
      deps,
      conn,
      bytes,
      isBinary ? null : Array.isArray(data) ? Buffer.concat(data).toString() : data.toString(),
    )
  }
  function onClose(this: Tagged) {
    const conn = this[CONN]
    if (conn) deps.chat.hub.leave(conn)
  }
  function onError(this: Tagged) {
    // ws closes the socket itself (e.g. 1009 for an oversized frame); 'close' follows.
  }
  /**
   * Takes the socket over from the Hono adapter once it is open. The adapter's own listeners
   * close over the whole request context (Request, headers, IncomingMessage, the per-request
   * logger): ~10 KB per socket for as long as it stays open. With them removed, an idle socket
   * costs what ws itself costs. The adapter attaches them synchronously right after onOpen
   * returns, so a microtask later they are all there to remove; frames it buffered before
   * onOpen were already replayed to `onMessage` below by then.
   */
  function adopt(raw: Tagged) {
    raw.removeAllListeners('message')
    raw.removeAllListeners('close')
    raw.removeAllListeners('error')
    raw.on('message', onMessage)
    raw.on('close', onClose)
    raw.on('error', onError)
    if (raw.readyState !== raw.OPEN && raw[CONN]) deps.chat.hub.leave(raw[CONN])
  }

  return new Hono<SocketEnv>().get(
    '/channels/:name',
    handshake(deps),
    upgradeWebSocket((c) => {
      const identity = c.var.chatIdentity
      const channel = c.req.param('name')!
      // Unique viewers: a signed-in user counts once however many tabs; anonymous viewers by address.
      const viewerKey = identity ? `u:${identity.userId}` : `ip:${c.var.clientIp}`
      const socket = (c.env as HttpBindings).incoming.socket
      const connId = c.var.chatConnId
      let conn: Conn | undefined
      return {
        onOpen(_evt, ws) {
          const raw = ws.raw as Tagged
          conn = new Conn(connId, raw, socket, channel, identity, viewerKey, limits, deps.now())
          raw[CONN] = conn
          raw.on('pong', onPong)
          // Frames that arrive before the welcome is out wait for it.
          conn.queue = deps.chat.hub.open(conn)
          queueMicrotask(() => adopt(raw))
        },
        // Only frames the adapter buffered before onOpen come this way (see adopt).
        onMessage(evt) {
          const data = evt.data
          if (conn)
            receive(
              deps,
              conn,
              typeof data === 'string' ? Buffer.byteLength(data) : 0,
              typeof data === 'string' ? data : null,
            )
        },
        onClose() {
          if (conn) deps.chat.hub.leave(conn)
        },
      }
    }),
  )
}
