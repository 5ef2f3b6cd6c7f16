/**
 * @module test/support/hls-viewer — an HLS player as nginx sees it (VLC, ffplay, a TV, our page):
 * from its own loopback source address and user agent it polls the playlist and fetches each new
 * segment once, newest first like a live player, adding up the #EXTINF durations it received.
 */
import { httpFrom } from './edge-clients.js'

export type HlsViewer = {
  /** Seconds of media received (Σ #EXTINF of fetched segments). */
  readonly receivedS: number
  readonly segments: number
  /** Fetches `count` more new segments, then resolves. */
  watch(count: number): Promise<void>
}

export function hlsViewer(
  http: string,
  channel: string,
  who: { addr: string; userAgent: string; cookie?: string },
  /** The playlist's directory URL, when not `<http>/hls/<channel>` (a signed `/hls/t/<grant>/<channel>`). */
  base = `${http}/hls/${channel}`,
): HlsViewer {
  const seen = new Set<string>()
  let receivedS = 0
  let segments = 0
  const headers: Record<string, string> = {
    'user-agent': who.userAgent,
    ...(who.cookie && { cookie: `lv_vid=${who.cookie}` }),
  }
  const playlist = async () => {
    const res = await httpFrom(who.addr, `${base}/index.m3u8`, { headers })
    if (res.status !== 200) return []
    const out: { name: string; durationS: number }[] = []
    let duration = 0
    for (const line of res.body.split('\n')) {
      const m = /^#EXTINF:([\d.]+)/.exec(line)
      if (m) duration = Number(m[1])
      else if (line.endsWith('.ts')) out.push({ name: line.trim(), durationS: duration })
    }
    return out
  }
  return {
    get receivedS() {
      return receivedS
    },
    get segments() {
      return segments
    },
    async watch(count) {
      const target = segments + count
      while (segments < target) {
        const list = await playlist()
        // A live player joins at the edge: the first poll takes the newest segment only.
        const fresh = (seen.size === 0 ? list.slice(-1) : list).filter((s) => !seen.has(s.name))
        for (const s of fresh) {
          if (segments >= target) break
          seen.add(s.name)
          const res = await httpFrom(who.addr, `${base}/${s.name}`, { headers })
          if (res.status !== 200) continue
          receivedS += s.durationS
          segments++
        }
        if (segments < target) await new Promise((r) => setTimeout(r, 250))
      }
    },
  }
}
