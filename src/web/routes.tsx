/**
 * @module web/routes — the browser pages (hono/jsx, rendered on the server) and the bundle they
 * load from `/assets/*`. Pages read public state straight from the services; everything that needs
 * a user goes through the JSON API from the page modules, with the same tokens any client uses.
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { getChannel, listChannels, privateChannelShell } from '../channels/service.js'
import type { Deps } from '../deps.js'
import type { AppEnv } from '../http/env.js'
import { AppError } from '../http/errors.js'
import { getVideo, listVideos } from '../videos/service.js'
import { createAssets, serveAssets } from './assets.js'
import {
  ForgotPasswordPage,
  LoginPage,
  ResetPasswordPage,
  SignupPage,
  VerifyEmailPage,
} from './pages/account.js'
import { AnalyticsPage } from './pages/analytics.js'
import { ChannelPage } from './pages/channel.js'
import { DashboardPage } from './pages/dashboard.js'
import { HomePage, LiveGrid } from './pages/home.js'
import { FAVICON_SVG } from './pages/icons.js'
import type { PageCtx } from './pages/layout.js'
import { NotFoundPage } from './pages/not-found.js'
import { VideoPage } from './pages/videos.js'
import { safeNext } from './shared/format.js'

/** Set by the browser at login (client/session.ts); a display hint, see PageCtx.user. */
export const USER_HINT_COOKIE = 'live_user'
const NAME_RE = /^[a-z0-9_]{3,24}$/
const VIDEO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const LIVE_LIMIT = 60

type PageOpts = { status?: 200 | 404; secretInUrl?: boolean }

export const webRoutes = (deps: Deps) => {
  const assets = createAssets(deps.log)
  const ctxOf = (c: Context<AppEnv>): PageCtx => {
    const hint = getCookie(c, USER_HINT_COOKIE)
    return { assets, user: hint && NAME_RE.test(hint) ? hint : null, path: c.req.path }
  }
  /** Pages are per-browser (the top bar) and show live state: never cached by anyone. */
  const page = (c: Context<AppEnv>, body: unknown, opts: PageOpts = {}) => {
    // Confirmation and reset links carry a one-time token in the URL: no cache keeps those pages
    // (and their <meta name="referrer" content="no-referrer"> keeps the token out of Referer).
    c.header('Cache-Control', opts.secretInUrl ? 'no-store' : 'private, no-cache')
    return c.html(body as string, opts.status ?? 200)
  }
  const live = () => listChannels(deps, { liveOnly: true, limit: LIVE_LIMIT })
  const providers = deps.config.OIDC_PROVIDERS.map((p) => ({ id: p.id, name: p.name }))
  const nextOf = (c: Context<AppEnv>) => safeNext(c.req.query('next'))

  return (
    new Hono<AppEnv>()
      .use('/assets/*', serveAssets())
      .get('/favicon.svg', (c) => {
        c.header('Cache-Control', 'public, max-age=86400')
        return c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml' })
      })
      .get('/', async (c) => {
        const channels = await live()
        return page(
          c,
          <HomePage
            ctx={ctxOf(c)}
            channels={channels}
            now={deps.now()}
            rtmpUrl={deps.config.RTMP_PUBLIC_URL}
          />,
        )
      })
      // The live grid alone, for the home page module to refresh in place.
      .get('/_partials/live', async (c) => {
        const channels = await live()
        c.header('Cache-Control', 'no-cache')
        return c.html(
          <LiveGrid
            channels={channels}
            now={deps.now()}
            rtmpUrl={deps.config.RTMP_PUBLIC_URL}
            signedIn={ctxOf(c).user !== null}
          />,
        )
      })
      .get('/c/:name', async (c) => {
        const name = c.req.param('name')
        const ctx = ctxOf(c)
        if (!NAME_RE.test(name)) return page(c, <NotFoundPage ctx={ctx} what={name} />, { status: 404 })
        const channel = await getChannel(deps, name).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return null
          throw err
        })
        if (!channel) {
          // A private channel: the page is a shell (no title, state or counts) that the page
          // module fills in for a signed-in viewer who may watch (the server cannot tell who).
          const shell = await privateChannelShell(deps, name)
          if (!shell) return page(c, <NotFoundPage ctx={ctx} what={name} />, { status: 404 })
          return page(c, <ChannelPage ctx={ctx} channel={shell} now={deps.now()} />)
        }
        // What anyone may see (the page is rendered without the caller's token).
        const videos = await listVideos(deps, name, null, 24)
        return page(c, <ChannelPage ctx={ctx} channel={channel} now={deps.now()} videos={videos} />)
      })
      .get('/v/:id', async (c) => {
        const ctx = ctxOf(c)
        const id = c.req.param('id')
        const video = VIDEO_ID.test(id)
          ? await getVideo(deps, id, null).catch((err: unknown) => {
              if (err instanceof AppError && err.code === 'NOT_FOUND') return null
              throw err
            })
          : null
        if (!VIDEO_ID.test(id)) return page(c, <NotFoundPage ctx={ctx} what="this video" />, { status: 404 })
        // Not for anyone: private (the page module asks again as the signed-in viewer) or none —
        // the same shell either way, so the answer tells a stranger nothing.
        return page(c, <VideoPage ctx={ctx} video={video} videoId={id} />, { status: video ? 200 : 404 })
      })
      .get('/signup', (c) => page(c, <SignupPage ctx={ctxOf(c)} providers={providers} next={nextOf(c)} />))
      .get('/login', (c) => page(c, <LoginPage ctx={ctxOf(c)} providers={providers} next={nextOf(c)} />))
      .get('/verify-email', (c) => page(c, <VerifyEmailPage ctx={ctxOf(c)} />, { secretInUrl: true }))
      .get('/forgot-password', (c) => page(c, <ForgotPasswordPage ctx={ctxOf(c)} />))
      .get('/reset-password', (c) => page(c, <ResetPasswordPage ctx={ctxOf(c)} />, { secretInUrl: true }))
      // Reached only when the page module did not run: the body is ignored, nothing is processed.
      .post('/signup', (c) => page(c, <SignupPage ctx={ctxOf(c)} scriptNeeded />))
      .post('/login', (c) => page(c, <LoginPage ctx={ctxOf(c)} scriptNeeded />))
      .post('/forgot-password', (c) => page(c, <ForgotPasswordPage ctx={ctxOf(c)} scriptNeeded />))
      .post('/reset-password', (c) =>
        page(c, <ResetPasswordPage ctx={ctxOf(c)} scriptNeeded />, { secretInUrl: true }),
      )
      .get('/dashboard', (c) =>
        page(c, <DashboardPage ctx={ctxOf(c)} rtmpUrl={deps.config.RTMP_PUBLIC_URL} />),
      )
      .get('/dashboard/analytics', (c) => page(c, <AnalyticsPage ctx={ctxOf(c)} />))
  )
}

const NOT_PAGES = /^\/(api|hooks|ws|hls|vod|thumbs|assets|\.well-known)(\/|$)/

/** An HTML 404 for a browser navigating to an unknown page; null for API clients (problem+json). */
export function webNotFound(deps: Deps) {
  const assets = createAssets(deps.log)
  return (c: Context<AppEnv>): Response | Promise<Response> | null => {
    if (c.req.method !== 'GET' || NOT_PAGES.test(c.req.path)) return null
    if (!c.req.header('accept')?.includes('text/html')) return null
    const hint = getCookie(c, USER_HINT_COOKIE)
    const ctx: PageCtx = { assets, user: hint && NAME_RE.test(hint) ? hint : null, path: c.req.path }
    c.header('Cache-Control', 'private, no-cache')
    return c.html(<NotFoundPage ctx={ctx} />, 404)
  }
}
