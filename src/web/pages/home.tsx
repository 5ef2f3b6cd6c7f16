/**
 * @module web/pages/home — `/`: who is live now (title, viewers, how long), or an empty state that
 * tells a broadcaster how to start. The grid is also served alone (`/_partials/live`) so the page
 * module can refresh it in place with the exact same markup.
 */
import type { FC } from 'hono/jsx'
import type { ChannelView } from '../../channels/service.js'
import { liveThumbUrl } from '../../videos/paths.js'
import { hueOf, liveFor, viewersLabel } from '../shared/format.js'
import { BroadcastIcon, ClockIcon, EyeIcon } from './icons.js'
import { Avatar, Document, type PageCtx } from './layout.js'

const ChannelCard: FC<{ ch: ChannelView; now: number }> = ({ ch, now }) => {
  const since = ch.startedAt ? Date.parse(ch.startedAt) : now
  return (
    <li class="card channel-card">
      <a class="channel-card-link" href={`/c/${ch.name}`}>
        <div class="thumb" style={`--hue:${hueOf(ch.name)}`}>
          <span class="thumb-initial" aria-hidden="true">
            {ch.name.slice(0, 1).toUpperCase()}
          </span>
          {/* Refreshed about every 30 s (videos/thumbnails.ts): the query makes each round a new URL. */}
          <img class="thumb-img" src={`${liveThumbUrl(ch.name)}?t=${Math.floor(now / 30_000)}`} alt="" />
          <span class={ch.status === 'reconnecting' ? 'badge badge-warn' : 'badge badge-live'}>
            {ch.status === 'reconnecting' ? 'Reconnecting' : 'Live'}
          </span>
          <span class="thumb-meta">
            <span class="pill">
              <EyeIcon size={14} />
              <span data-viewers={ch.name}>{viewersLabel(ch.viewers)}</span>
            </span>
            <span class="pill">
              <ClockIcon size={14} />
              <span data-since={String(since)}>{liveFor(now - since)}</span>
            </span>
          </span>
        </div>
        <div class="channel-card-body">
          <Avatar name={ch.name} />
          <div class="channel-card-text">
            <h3 class="channel-card-title">{ch.title || `${ch.name} is live`}</h3>
            <p class="channel-card-name">{ch.name}</p>
          </div>
        </div>
      </a>
    </li>
  )
}

export const LiveGrid: FC<{ channels: ChannelView[]; now: number; rtmpUrl: string; signedIn: boolean }> = ({
  channels,
  now,
  rtmpUrl,
  signedIn,
}) =>
  channels.length === 0 ? (
    <div class="empty-state" data-live-count="0">
      <div class="empty-icon">
        <BroadcastIcon size={32} />
      </div>
      <h2>Nobody is live right now</h2>
      <p class="muted">Be the first. Going live takes about two minutes:</p>
      <ol class="steps">
        <li>
          <strong>{signedIn ? 'Open your dashboard' : 'Create an account'}</strong> and confirm your email.
        </li>
        <li>
          <strong>Create a stream key</strong> on the dashboard.
        </li>
        <li>
          In OBS, <em>Settings → Stream</em>, choose <em>Custom</em>, paste the key and this server:
          <code class="code-line">{rtmpUrl}</code>
        </li>
        <li>
          <strong>Start Streaming.</strong> Your channel shows up here within seconds.
        </li>
      </ol>
      <div class="actions">
        <a class="btn btn-primary" href={signedIn ? '/dashboard' : '/signup'}>
          {signedIn ? 'Go to dashboard' : 'Start streaming'}
        </a>
        {!signedIn && (
          <a class="btn btn-ghost" href="/login">
            I have an account
          </a>
        )}
      </div>
    </div>
  ) : (
    <ul class="channel-grid" data-live-count={String(channels.length)}>
      {channels.map((ch) => (
        <ChannelCard ch={ch} now={now} />
      ))}
    </ul>
  )

export const HomePage: FC<{ ctx: PageCtx; channels: ChannelView[]; now: number; rtmpUrl: string }> = ({
  ctx,
  channels,
  now,
  rtmpUrl,
}) => (
  <Document ctx={ctx} title="live" entry="home" description="Live channels right now: watch and chat.">
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Live now</h1>
          <p class="muted" id="live-summary" aria-live="polite">
            {channels.length === 0
              ? 'No channels are live.'
              : `${channels.length} ${channels.length === 1 ? 'channel' : 'channels'} live`}
          </p>
        </div>
      </div>
      <section id="live-grid" aria-label="Live channels">
        <LiveGrid channels={channels} now={now} rtmpUrl={rtmpUrl} signedIn={ctx.user !== null} />
      </section>
    </div>
  </Document>
)
