/**
 * @module analytics/log-line — one HLS segment request as nginx's edge logs it over syslog (UDP),
 * parsed. The format is `log_format analytics` in nginx/nginx.conf.template: tab-separated,
 * variables escaped by nginx (`\xHH` for tabs, quotes and non-ASCII), so a tab always separates.
 */

/** The syslog tag nginx puts before the message (`access_log syslog:…,tag=lvhls`). */
export const HLS_LOG_TAG = 'lvhls'

export type HlsHit = {
  /** nginx's $msec: when the response was sent, ms since epoch. */
  at: number
  /** $remote_addr after realip: the real client. Hashed at once (viewer-id.ts), never kept. */
  addr: string
  status: number
  bytes: number
  channel: string
  /** Segment file name without `.ts`: wall-clock ms with `hls_fragment_naming system`. */
  segment: string
  /** Our page's viewer cookie (`lv_vid`), if the request carried a well-formed one. */
  cookie: string | null
  userAgent: string
}

/** `/hls/<channel>/<segment>.ts`, or `/<channel>/<segment>.ts` from a signed `/hls/t/<grant>/…` after nginx's rewrite. */
const URI = /^(?:\/hls)?\/([a-z0-9_]{3,24})\/([A-Za-z0-9_-]{1,64})\.ts$/
const COOKIE = /^[A-Za-z0-9_-]{16,64}$/
const MARKER = `${HLS_LOG_TAG}: `

/**
 * `<pri>Mmm dd hh:mm:ss lvhls: msec\taddr\tstatus\tbytes\turi\tcookie\tua` → a hit, or null for
 * anything that is not a served segment of a well-named channel (a 404, a playlist, noise).
 */
export function parseHlsLine(line: string): HlsHit | null {
  const start = line.indexOf(MARKER)
  const msg = start < 0 ? line : line.slice(start + MARKER.length)
  const f = msg.split('\t')
  if (f.length < 7) return null
  const at = Math.round(Number(f[0]) * 1000)
  const status = Number(f[2])
  const bytes = Number(f[3])
  if (!Number.isFinite(at) || (status !== 200 && status !== 206) || !(bytes > 0)) return null
  const m = URI.exec(f[4]!)
  if (!m) return null
  const cookie = COOKIE.test(f[5]!) ? f[5]! : null
  // A user agent may not contain a tab (nginx escapes it), so the rest is the UA.
  const ua = f.slice(6).join('\t').replace(/\n$/, '')
  return { at, addr: f[1]!, status, bytes, channel: m[1]!, segment: m[2]!, cookie, userAgent: ua }
}

/** The line nginx would send for a hit (benchmarks and tests drive the listener with it). */
export function formatHlsLine(h: Omit<HlsHit, 'channel' | 'segment'> & { uri: string }): string {
  return `<190>Nov 29 23:59:59 ${HLS_LOG_TAG}: ${(h.at / 1000).toFixed(3)}\t${h.addr}\t${h.status}\t${h.bytes}\t${h.uri}\t${h.cookie ?? '-'}\t${h.userAgent}`
}
