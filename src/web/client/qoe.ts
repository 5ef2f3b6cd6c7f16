/**
 * @module web/client/qoe — quality of experience of this page's playback, reported over the chat
 * socket as `qoe` frames (docs/analytics.md "Quality of experience"), by every viewer: signed in
 * or not, allowed to chat or not.
 *
 * - startup: page open (or the stream going live while the page was open) → first frame shown
 *   (`playing`), once per playback;
 * - rebuffering: a `waiting` after the first frame, while neither paused nor seeking (hls.js jumps
 *   to the live edge by seeking), until `playing`: counted as a stall and its duration;
 * - played: wall time in the playing state; paused time is neither played nor stalled;
 * - latency: hls.js's distance to the live edge, sampled at each report while playing;
 * - errors: hls.js errors by type, fatal or not.
 * Durations are sent as deltas since the previous report; what could not be sent (socket
 * reconnecting) is kept and sent with the next one. Refs start with "qoe" so the page can
 * tell replies to reports from replies to chat.
 */

export const QOE_REF_PREFIX = 'qoe'
const REPORT_EVERY_MS = 10_000
/** The server accepts one report per 2 s per socket; stay clear of it. */
const MIN_SPACING_MS = 2500

type Send = (frame: Record<string, unknown>) => boolean

export class QoeTracker {
  private t0 = 0
  private active = false
  private firstFrame = false
  private playingSince: number | null = null
  private stalledSince: number | null = null
  private startupMs: number | null = null
  private playedMs = 0
  private stalledMs = 0
  private stalls = 0
  private errors = new Map<string, { type: string; fatal: boolean; count: number }>()
  private lastSent = Number.NEGATIVE_INFINITY
  private timer: number | undefined
  private seq = 0

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly latencyS: () => number | null,
    private readonly send: Send,
  ) {
    video.addEventListener('playing', () => this.onPlaying())
    video.addEventListener('waiting', () => this.onWaiting())
    video.addEventListener('pause', () => this.closeSegments(performance.now()))
    // The last few seconds of a viewer who leaves.
    addEventListener('pagehide', () => this.report())
  }

  /** The player was started: from page open when `fromPageOpen`, else from now. */
  started(fromPageOpen: boolean): void {
    this.active = true
    this.firstFrame = false
    this.playingSince = null
    this.stalledSince = null
    // performance.now() counts from navigation start: 0 is "the page was opened".
    this.t0 = fromPageOpen ? 0 : performance.now()
    clearInterval(this.timer)
    this.timer = window.setInterval(() => this.report(), REPORT_EVERY_MS)
  }

  stopped(): void {
    if (!this.active) return
    this.closeSegments(performance.now())
    this.report()
    this.active = false
    clearInterval(this.timer)
  }

  error(type: string, fatal: boolean): void {
    if (!this.active) return
    const key = `${type}.${fatal}`
    const e = this.errors.get(key)
    if (e) e.count++
    else if (this.errors.size < 10) this.errors.set(key, { type, fatal, count: 1 })
  }

  private onPlaying(): void {
    if (!this.active) return
    const now = performance.now()
    if (this.stalledSince !== null) {
      this.stalledMs += now - this.stalledSince
      this.stalledSince = null
    }
    this.playingSince ??= now
    if (!this.firstFrame) {
      this.firstFrame = true
      this.startupMs = Math.max(0, now - this.t0)
      this.report() // startup time reaches the broadcaster without waiting for the timer
    }
  }

  private onWaiting(): void {
    if (!this.active || !this.firstFrame || this.video.paused || this.video.seeking) return
    if (this.stalledSince !== null) return
    const now = performance.now()
    if (this.playingSince !== null) this.playedMs += now - this.playingSince
    this.playingSince = null
    this.stalledSince = now
    this.stalls++
  }

  /** Moves the open playing/stalled time into the totals; keeps the state running unless paused. */
  private closeSegments(now: number, keepRunning = false): void {
    if (this.playingSince !== null) {
      this.playedMs += now - this.playingSince
      this.playingSince = keepRunning ? now : null
    }
    if (this.stalledSince !== null) {
      this.stalledMs += now - this.stalledSince
      this.stalledSince = keepRunning ? now : null
    }
  }

  /** Sends what accumulated; too soon after the previous report, it waits for the next one. */
  private report(): void {
    if (!this.active) return
    const now = performance.now()
    if (now - this.lastSent < MIN_SPACING_MS) return
    const playing = this.playingSince !== null && !this.video.paused
    this.closeSegments(now, true)
    const latency = playing ? this.latencyS() : null
    const frame: Record<string, unknown> = {
      type: 'qoe',
      playedMs: Math.round(this.playedMs),
      stalledMs: Math.round(this.stalledMs),
      stalls: this.stalls,
      ref: `${QOE_REF_PREFIX}${++this.seq}`,
    }
    if (this.startupMs !== null) frame.startupMs = Math.round(this.startupMs)
    if (latency !== null) frame.latencyMs = Math.round(latency * 1000)
    if (this.errors.size) frame.errors = [...this.errors.values()]
    if (frame.playedMs === 0 && frame.stalledMs === 0 && !frame.startupMs && !frame.errors) return
    if (!this.send(frame)) return // not connected: everything stays for the next report
    this.lastSent = now
    this.startupMs = null
    this.playedMs = 0
    this.stalledMs = 0
    this.stalls = 0
    this.errors.clear()
  }
}
