/**
 * @module web/client/video — `/v/:id`: plays a recorded broadcast. The playlist is a VOD
 * (`#EXT-X-ENDLIST`), so hls.js (or native HLS) gives the video element a finite duration and
 * the controls seek anywhere in it; none of the live-edge tuning of player.ts applies. A video
 * the server could not show (private) is asked for again as the signed-in viewer, and plays from
 * a playback grant that outlives the video's length.
 */
import Hls from 'hls.js'
import type { VideoView } from '../../videos/service.js'
import type { PlaybackGrant } from '../../visibility/playback-token.js'
import type { VideoPageData } from '../pages/videos.js'
import { api } from './api.js'
import { must, pageData } from './dom.js'
import { initNav } from './nav.js'
import { getSession } from './session.js'

initNav()
const data = pageData<VideoPageData>()
const video = must<HTMLVideoElement>('#video')

function play(src: string): void {
  if (Hls.isSupported()) {
    const hls = new Hls({
      enableWorker: data.hlsWorker !== null,
      ...(data.hlsWorker ? { workerPath: data.hlsWorker } : {}),
    })
    hls.loadSource(src)
    hls.attachMedia(video)
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = src
  }
}

async function asViewer(): Promise<void> {
  if (!(await getSession())) return
  const v = await api<VideoView>(`/api/v1/videos/${data.videoId}`)
  if (!v.playbackUrl) return
  // Long enough to watch it all (segments are fetched as the viewer gets there), within the cap.
  const ttlS = Math.min(86_400, Math.max(900, Math.ceil((v.durationS ?? 0) * 2) + 900))
  const grant = await api<PlaybackGrant>(`/api/v1/videos/${v.id}/playback-tokens`, {
    method: 'POST',
    body: { ttlS },
  })
  must('#video-title').textContent = v.title
  must('#video-meta').textContent = `${v.channel} · private`
  document.title = `${v.title} · live`
  must('#private-overlay').hidden = true
  video.hidden = false
  if (v.thumbnailUrl) video.poster = grant.playbackUrl.replace(/index\.m3u8$/, 'thumb.jpg')
  play(grant.playbackUrl)
}

if (data.video?.playbackUrl) play(data.video.playbackUrl)
else if (!data.video) void asViewer().catch(() => {})
