/**
 * @module web/client/player — HLS playback tuned for live.
 *
 * hls.js (bundled, served from our origin) wherever it can run, i.e. wherever MediaSource (or
 * iOS's ManagedMediaSource) exists: it can be told where the live edge is and how to catch up.
 * Where it cannot run (iPhones before iOS 17.1) the browser's native HLS plays the playlist.
 * Recent Chrome also answers "maybe" for native HLS, but its player has no live-edge tuning, so
 * hls.js stays first, as hls.js's own README recommends. `?player=native` forces native playback.
 *
 * Tuning for nginx-rtmp's 1 s fragments and 6 s playlist (no LL-HLS parts, so lowLatencyMode off):
 * start 2 fragments behind the live edge, speed up slightly (≤ 1.5×) when drifting behind, and
 * jump back to the edge when more than 5 fragments behind (after a stall or a paused tab).
 */
import Hls, { type ErrorData, Events } from 'hls.js'

export type PlayerEvents = {
  /** Buffering or waiting for the first frames (true) versus frames are being shown (false). */
  onWaiting(waiting: boolean): void
  /** Autoplay succeeded muted: offer an unmute button. */
  onMuted(muted: boolean): void
  /** Every hls.js error, fatal or not (`type` is hls.js's ErrorTypes value), for QoE reports. */
  onError?(type: string, fatal: boolean): void
}

export type Player = {
  start(): void
  stop(): void
  readonly engine: 'hls.js' | 'native' | 'none'
  /** hls.js's estimate of the distance to the live edge, in seconds; null when unknown. */
  latencyS(): number | null
}

const RESTART_DELAY_MS = 2000

/**
 * The page's first-party viewer id (docs/analytics.md "The viewer cookie"): nginx logs it with
 * each HLS segment, so this browser is one viewer across address changes and counts as `page`.
 * Random per browser, never derived from the account; sent only to /hls/.
 */
export function ensureViewerCookie(): void {
  if (/(?:^|;\s*)lv_vid=[A-Za-z0-9_-]{16,64}(?:;|$)/.test(document.cookie)) return
  const id = crypto.randomUUID().replaceAll('-', '')
  const secure = location.protocol === 'https:' ? '; Secure' : ''
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing in Firefox and older Safari
  document.cookie = `lv_vid=${id}; Path=/hls/; Max-Age=31536000; SameSite=Lax${secure}`
}

/** Where to play from, read at each (re)start; `rewriteUrl` re-points every request (a renewed grant). */
export type PlayerSource = { src(): string; rewriteUrl?(url: string): string }

export function createPlayer(
  video: HTMLVideoElement,
  source: string | PlayerSource,
  worker: string | null,
  events: PlayerEvents,
): Player {
  const { src, rewriteUrl } =
    typeof source === 'string' ? { src: () => source, rewriteUrl: undefined } : source
  const forceNative = new URLSearchParams(location.search).get('player') === 'native'
  const native = video.canPlayType('application/vnd.apple.mpegurl') !== ''
  const engine = !forceNative && Hls.isSupported() ? 'hls.js' : native ? 'native' : 'none'
  let hls: Hls | null = null
  let running = false
  let restartTimer: number | undefined
  let mediaRecoveries = 0

  const play = () => {
    video.play().then(
      () => events.onMuted(video.muted),
      () => {
        // Autoplay with sound refused: retry muted (allowed nearly everywhere), let the user unmute.
        if (!video.muted) {
          video.muted = true
          play()
        } else {
          // Even muted autoplay refused (a power-saving mode): the video's own play button remains.
          events.onWaiting(false)
        }
      },
    )
  }

  const restartSoon = () => {
    clearTimeout(restartTimer)
    restartTimer = window.setTimeout(() => {
      if (!running) return
      teardown()
      attach()
    }, RESTART_DELAY_MS)
  }

  const onError = (_e: unknown, data: ErrorData) => {
    events.onError?.(data.type, data.fatal)
    if (!data.fatal || !hls) return
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
      mediaRecoveries++
      hls.recoverMediaError()
      return
    }
    // Playlist gone or not there yet (a publisher that just started or stopped), segments missing:
    // start over in a moment; the page stops the player when the stream really is offline.
    restartSoon()
  }

  const attach = () => {
    ensureViewerCookie()
    if (engine === 'hls.js') {
      hls = new Hls({
        enableWorker: worker !== null,
        ...(worker ? { workerPath: worker } : {}),
        lowLatencyMode: false,
        liveSyncDurationCount: 2,
        liveMaxLatencyDurationCount: 5,
        maxLiveSyncPlaybackRate: 1.5,
        liveDurationInfinity: true,
        maxBufferLength: 10,
        ...(rewriteUrl
          ? { xhrSetup: (xhr: XMLHttpRequest, url: string) => xhr.open('GET', rewriteUrl(url), true) }
          : {}),
        backBufferLength: 10,
        // The first playlist appears about a second after a publish starts: keep asking.
        manifestLoadPolicy: {
          default: {
            maxTimeToFirstByteMs: 10_000,
            maxLoadTimeMs: 20_000,
            timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
            errorRetry: { maxNumRetry: 5, retryDelayMs: 500, maxRetryDelayMs: 2000 },
          },
        },
      })
      hls.on(Events.ERROR, onError)
      hls.on(Events.MANIFEST_PARSED, play)
      hls.loadSource(src())
      hls.attachMedia(video)
    } else if (engine === 'native') {
      video.src = src()
      play()
    }
  }

  const teardown = () => {
    clearTimeout(restartTimer)
    if (hls) {
      hls.destroy()
      hls = null
    }
    video.removeAttribute('src')
    video.load()
  }

  video.addEventListener('waiting', () => running && events.onWaiting(true))
  video.addEventListener('playing', () => {
    mediaRecoveries = 0
    events.onWaiting(false)
  })
  video.addEventListener('volumechange', () => events.onMuted(video.muted))
  // Native HLS reports a dead playlist as a media error; hls.js's own errors are handled above.
  video.addEventListener('error', () => running && engine === 'native' && restartSoon())

  return {
    engine,
    latencyS() {
      const l = hls?.latency
      return typeof l === 'number' && Number.isFinite(l) && l > 0 ? l : null
    },
    start() {
      if (running) teardown()
      running = true
      mediaRecoveries = 0
      events.onWaiting(true)
      attach()
    },
    stop() {
      running = false
      teardown()
      events.onWaiting(false)
    },
  }
}
