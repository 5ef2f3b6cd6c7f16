/**
 * @module web/pages/layout — the document shell every page shares: head (stylesheet, module
 * script, modulepreloads), the top bar with the account area, the main landmark.
 *
 * No inline script anywhere (CSP `script-src 'self'`): page data travels in data-* attributes or a
 * `<script type="application/json">` block, which browsers never execute.
 */

import { raw } from 'hono/html'
import type { Child, FC } from 'hono/jsx'
import type { AssetLookup } from '../assets.js'
import { hueOf } from '../shared/format.js'
import { Logo } from './icons.js'

/** What every page needs from the request: the bundle, and who the browser says is signed in. */
export type PageCtx = {
  assets: AssetLookup
  /**
   * The username from the `live_user` hint cookie the browser sets at login. A display hint only
   * (the top bar renders the right buttons without a flash); every API call is authorised by the
   * access token, never by this.
   */
  user: string | null
  path: string
}

type Entry = 'home' | 'channel' | 'dashboard' | 'account' | 'analytics' | 'video'

export const Avatar: FC<{ name: string; size?: 'sm' | 'md' | 'lg' }> = ({ name, size = 'md' }) => (
  <span class={`avatar avatar-${size}`} style={`--hue:${hueOf(name)}`} aria-hidden="true">
    {name.slice(0, 1).toUpperCase()}
  </span>
)

const TopBar: FC<{ ctx: PageCtx }> = ({ ctx }) => (
  <header class="topbar">
    <a class="brand" href="/" aria-label="live — home">
      <Logo />
      <span class="brand-name">live</span>
    </a>
    <nav class="topnav" aria-label="Main">
      <a href="/" aria-current={ctx.path === '/' ? 'page' : undefined}>
        Browse
      </a>
      <a href="/dashboard" aria-current={ctx.path === '/dashboard' ? 'page' : undefined}>
        Creator dashboard
      </a>
    </nav>
    <div class="account" id="account" data-user={ctx.user ?? ''}>
      {ctx.user ? (
        <>
          <a class="account-me" href={`/c/${ctx.user}`} title="Your channel">
            <Avatar name={ctx.user} size="sm" />
            <span class="account-name">{ctx.user}</span>
          </a>
          <button type="button" class="btn btn-ghost btn-sm" data-action="logout">
            Log out
          </button>
        </>
      ) : (
        <>
          <a class="btn btn-ghost btn-sm" href={`/login?next=${encodeURIComponent(ctx.path)}`}>
            Log in
          </a>
          <a class="btn btn-primary btn-sm" href="/signup">
            Sign up
          </a>
        </>
      )}
    </div>
  </header>
)

export const Document: FC<{
  ctx: PageCtx
  title: string
  description?: string
  entry: Entry
  bodyClass?: string
  /** For pages whose URL carries a one-time token: the token must not leak through Referer. */
  noReferrer?: boolean
  children?: Child
}> = ({ ctx, title, description, entry, bodyClass, noReferrer, children }) => {
  const css = ctx.assets.url('app.css')
  const js = ctx.assets.url(`${entry}.js`)
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{title === 'live' ? 'live' : `${title} · live`}</title>
          <meta name="description" content={description ?? 'Watch, chat and go live from your browser.'} />
          <meta name="color-scheme" content="dark" />
          <meta name="theme-color" content="#0e0e10" />
          {noReferrer && <meta name="referrer" content="no-referrer" />}
          <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
          {css && <link rel="stylesheet" href={css} />}
          {ctx.assets.preload(`${entry}.js`).map((href) => (
            <link rel="modulepreload" href={href} />
          ))}
          {js && <script type="module" src={js} />}
        </head>
        <body class={bodyClass}>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          <TopBar ctx={ctx} />
          <main id="main" tabindex={-1}>
            {children}
          </main>
        </body>
      </html>
    </>
  )
}

/** Page data for the browser module, in a block browsers never execute (CSP-safe). */
export const PageData: FC<{ data: unknown }> = ({ data }) => (
  <script type="application/json" id="page-data">
    {raw(
      JSON.stringify(data)
        .replace(/</g, '\\u003c')
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029'),
    )}
  </script>
)

export const NoScript: FC<{ children?: Child }> = ({ children }) => (
  <noscript>
    <p class="notice">{children}</p>
  </noscript>
)
