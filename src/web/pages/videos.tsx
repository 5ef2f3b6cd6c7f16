/**
 * @module web/pages/videos — recorded broadcasts: the grid of a channel's past broadcasts (on the
 * channel page) and `/v/:id`, the video player (hls.js, seekable: the playlist is a VOD).
 */
import type { FC } from 'hono/jsx'
import type { VideoView } from '../../videos/service.js'
import { hueOf } from '../shared/format.js'
import { Avatar, Document, type PageCtx, PageData } from './layout.js'

/** `video` null: not visible to anyone; the page module retries as the signed-in viewer. */
export type VideoPageData = { video: VideoView | null; videoId: string; hlsWorker: string | null }

/** 75 → "1:15", 3725 → "1:02:05" */
export function clock(totalS: number): string {
  const s = Math.max(0, Math.round(totalS))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

export const PastBroadcasts: FC<{ videos: VideoView[] }> = ({ videos }) =>
  videos.length === 0 ? null : (
    <section class="past-broadcasts" aria-labelledby="past-heading">
      <h2 id="past-heading">Past broadcasts</h2>
      <ul class="channel-grid video-grid">
        {videos.map((v) => (
          <li class="card channel-card">
            <a class="channel-card-link" href={`/v/${v.id}`}>
              <div class="thumb" style={`--hue:${hueOf(v.channel)}`}>
                {v.thumbnailUrl && <img class="thumb-img" src={v.thumbnailUrl} alt="" loading="lazy" />}
                {v.durationS !== null && (
                  <span class="thumb-meta">
                    <span />
                    <span class="pill">{clock(v.durationS)}</span>
                  </span>
                )}
              </div>
              <div class="channel-card-body">
                <div class="channel-card-text">
                  <h3 class="channel-card-title">{v.title}</h3>
                  <p class="channel-card-name">{new Date(v.recordedAt).toUTCString().slice(0, 22)}</p>
                </div>
              </div>
            </a>
          </li>
        ))}
      </ul>
    </section>
  )

export const VideoPage: FC<{ ctx: PageCtx; video: VideoView | null; videoId: string }> = ({
  ctx,
  video,
  videoId,
}) => {
  const data: VideoPageData = { video, videoId, hlsWorker: ctx.assets.url('hls.worker.js') }
  if (!video) return <PrivateVideoShell ctx={ctx} data={data} />
  const v = video
  return (
    <Document
      ctx={ctx}
      title={v.title}
      description={`${v.title} — a past broadcast of ${v.channel}`}
      entry="video"
    >
      <PageData data={data} />
      <div class="watch watch-vod" id="watch" data-video={v.id}>
        <section class="watch-main" aria-label="Video">
          <div class="player" id="player">
            {/* biome-ignore lint/a11y/useMediaCaption: a recorded broadcast has no caption track to offer */}
            <video
              id="video"
              class="player-video"
              playsinline
              controls
              preload="metadata"
              poster={v.thumbnailUrl ?? undefined}
              aria-label={v.title}
            />
          </div>
          <div class="channel-info">
            <Avatar name={v.channel} size="lg" />
            <div class="channel-info-text">
              <h1 class="channel-name">{v.title}</h1>
              <p class="channel-title">
                <a href={`/c/${v.channel}`}>{v.channel}</a> ·{' '}
                {new Date(v.recordedAt).toUTCString().slice(0, 22)}
                {v.durationS !== null && ` · ${clock(v.durationS)}`}
              </p>
            </div>
            <div class="channel-actions">
              {v.downloadUrl && (
                <a class="btn btn-ghost" href={v.downloadUrl} download>
                  Download MP4
                </a>
              )}
            </div>
          </div>
          <noscript>
            <p class="notice">
              The player needs JavaScript. Download the video instead: <a href={v.downloadUrl ?? '#'}>MP4</a>
            </p>
          </noscript>
        </section>
      </div>
    </Document>
  )
}

/** A video only some may watch (or none): the module fills it in for a viewer who may. */
const PrivateVideoShell: FC<{ ctx: PageCtx; data: VideoPageData }> = ({ ctx, data }) => (
  <Document ctx={ctx} title="Video" entry="video">
    <PageData data={data} />
    <div class="watch watch-vod" id="watch" data-video={data.videoId}>
      <section class="watch-main" aria-label="Video">
        <div class="player" id="player">
          {/* biome-ignore lint/a11y/useMediaCaption: a recorded broadcast has no caption track to offer */}
          <video id="video" class="player-video" playsinline controls preload="metadata" hidden />
          <div class="player-overlay" id="private-overlay">
            <p class="player-overlay-title">This video is private or does not exist</p>
            <p class="player-overlay-text">
              If it was shared with you, <a href={`/login?next=/v/${data.videoId}`}>log in</a> to watch it.
            </p>
          </div>
        </div>
        <div class="channel-info">
          <div class="channel-info-text">
            <h1 class="channel-name" id="video-title">
              Video
            </h1>
            <p class="channel-title" id="video-meta" />
          </div>
        </div>
      </section>
    </div>
  </Document>
)
