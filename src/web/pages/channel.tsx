/**
 * @module web/pages/channel — `/c/:name`: player, live state, viewer count and chat.
 *
 * Rendered with the channel's state at request time, so the page is right before any script runs
 * (and without scripts: the HLS URL for VLC or Safari). The page module then keeps it right over
 * the chat WebSocket: stream.online/offline flip `data-state` without a reload.
 */
import type { FC } from 'hono/jsx'
import type { ChannelView } from '../../channels/service.js'
import { liveThumbUrl } from '../../videos/paths.js'
import type { VideoView } from '../../videos/service.js'
import { uptime, viewersLabel } from '../shared/format.js'
import { ChatIcon, ClockIcon, EyeIcon, HeartIcon, VolumeOffIcon } from './icons.js'
import { Avatar, Document, type PageCtx, PageData } from './layout.js'
import { PastBroadcasts } from './videos.js'

export type ChannelPageData = {
  channel: ChannelView
  /** hls.js's transmuxing worker (content-hashed URL), or null to transmux on the main thread. */
  hlsWorker: string | null
}

const stateOf = (ch: ChannelView) => ch.status

export const ChannelPage: FC<{ ctx: PageCtx; channel: ChannelView; now: number; videos?: VideoView[] }> = ({
  ctx,
  channel: ch,
  now,
  videos = [],
}) => {
  const data: ChannelPageData = { channel: ch, hlsWorker: ctx.assets.url('hls.worker.js') }
  const since = ch.startedAt ? Date.parse(ch.startedAt) : null
  return (
    <Document
      ctx={ctx}
      title={ch.live ? `${ch.name} is live` : ch.name}
      description={ch.title || `${ch.name}'s channel: watch live and chat.`}
      entry="channel"
      bodyClass="layout-watch"
    >
      <PageData data={data} />
      <div class="watch" id="watch" data-state={stateOf(ch)} data-channel={ch.name}>
        <section class="watch-main" aria-label="Stream">
          <div class="player" id="player">
            <video
              id="video"
              class="player-video"
              playsinline
              muted
              controls
              preload="none"
              poster={ch.live ? `${liveThumbUrl(ch.name)}?t=${Math.floor(now / 30_000)}` : undefined}
              aria-label={`${ch.name}'s live stream`}
            />
            <div class="player-overlay player-offline" id="offline-overlay">
              <Avatar name={ch.name} size="lg" />
              <p class="player-overlay-title">
                <span>{ch.name}</span> is offline
              </p>
              <p class="player-overlay-text">The stream starts here by itself when they go live.</p>
            </div>
            <div class="player-overlay player-waiting" id="waiting-overlay" role="status">
              <span class="spinner" aria-hidden="true" />
              <p class="player-overlay-text" id="waiting-text">
                {ch.status === 'reconnecting' ? 'The broadcaster is reconnecting…' : 'Loading the stream…'}
              </p>
            </div>
            <button type="button" class="unmute" id="unmute" hidden>
              <VolumeOffIcon size={18} /> Unmute
            </button>
          </div>
          <div class="channel-info">
            <Avatar name={ch.name} size="lg" />
            <div class="channel-info-text">
              <h1 class="channel-name">{ch.name}</h1>
              <p class="channel-title" id="channel-title">
                {ch.title || (ch.live ? 'Live now' : 'No stream title yet')}
              </p>
              <div class="channel-stats">
                <span class="badge badge-live only-live">Live</span>
                <span class="badge badge-warn only-reconnecting">Reconnecting</span>
                <span class="badge badge-off only-offline">Offline</span>
                <span class="stat only-online" title="Watching now">
                  <EyeIcon size={16} />
                  <span id="viewers" aria-live="polite" data-count={String(ch.viewers)}>
                    {viewersLabel(ch.viewers)}
                  </span>
                </span>
                <span class="stat only-online" title="Live for">
                  <ClockIcon size={16} />
                  <span id="uptime" data-since={since === null ? '' : String(since)}>
                    {since === null ? '' : uptime(now - since)}
                  </span>
                </span>
              </div>
            </div>
            <div class="channel-actions">
              <a
                class="btn btn-primary"
                id="follow"
                href={`/login?next=/c/${ch.name}`}
                data-following="false"
              >
                <HeartIcon size={16} /> <span class="follow-label">Follow</span>
              </a>
            </div>
          </div>
          <PastBroadcasts videos={videos} />
          <noscript>
            <p class="notice">
              The player and chat need JavaScript. You can still watch in VLC or Safari:{' '}
              <a href={ch.playback.hls}>{ch.playback.hls}</a>
            </p>
          </noscript>
        </section>
        <aside class="chat" aria-labelledby="chat-heading">
          <header class="chat-head">
            <h2 id="chat-heading">
              <ChatIcon size={16} /> Stream chat
            </h2>
            <span class="chat-status" id="chat-status" role="status">
              Connecting…
            </span>
          </header>
          <div class="chat-log" id="chat-log" role="log" aria-label="Chat messages" tabindex={0} />
          <div class="chat-foot" id="chat-foot">
            <form class="chat-form" id="chat-form" hidden>
              <label class="sr-only" for="chat-input">
                Send a message
              </label>
              <input
                id="chat-input"
                name="text"
                type="text"
                maxlength={500}
                autocomplete="off"
                placeholder="Send a message"
                required
              />
              <button type="submit" class="btn btn-primary">
                Chat
              </button>
            </form>
            <p class="chat-note" id="chat-note">
              <a href={`/login?next=/c/${ch.name}`}>Log in</a> or <a href="/signup">sign up</a> to chat.
            </p>
          </div>
        </aside>
      </div>
    </Document>
  )
}
