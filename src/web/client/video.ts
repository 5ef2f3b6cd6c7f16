/**
 * @module web/client/video — `/v/:id`: plays a recorded broadcast. The playlist is a VOD
 * (`#EXT-X-ENDLIST`), so hls.js (or native HLS) gives the video element a finite duration and
 * the controls seek anywhere in it; none of the live-edge tuning of player.ts applies.
 */
import Hls from 'hls.js'
import type { VideoPageData } from '../pages/videos.js'
import { must, pageData } from './dom.js'
import { initNav } from './nav.js'

initNav()
const data = pageData<VideoPageData>()
const video = must<HTMLVideoElement>('#video')
const src = data.video.playbackUrl

if (src) {
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
