/**
 * @module live/stat — reads nginx-rtmp's `/stat` XML: which streams the ingest app carries, who
 * publishes each (nginx client id), and how many bytes arrived (parseIngestStat: only the `live`
 * application; the relay into `hls` and its players are ignored); and the node's totals for
 * metrics (parseNodeStat).
 */

export type IngestStream = { name: string; publisherId: string | null; bytesIn: number; timeMs: number }

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]

/** The blocks `<name>…</name>` delimits at the top level of `xml` (no nesting of the same tag here). */
function blocks(xml: string, name: string): string[] {
  const out: string[] = []
  const open = `<${name}>`
  const close = `</${name}>`
  let at = xml.indexOf(open)
  while (at !== -1) {
    const end = xml.indexOf(close, at)
    if (end === -1) break
    out.push(xml.slice(at + open.length, end))
    at = xml.indexOf(open, end)
  }
  return out
}

export function parseIngestStat(xml: string, app = 'live'): IngestStream[] {
  const application = blocks(xml, 'application').find((a) => tag(a, 'name') === app)
  if (!application) return []
  return blocks(application, 'stream').map((stream) => {
    const publisher = blocks(stream, 'client').find((c) => c.includes('<publishing/>'))
    return {
      name: tag(stream, 'name') ?? '',
      publisherId: publisher ? (tag(publisher, 'id') ?? null) : null,
      bytesIn: Number(tag(stream, 'bytes_in') ?? 0),
      timeMs: Number(tag(stream, 'time') ?? 0),
    }
  })
}

/** One ingest node's totals, as `/metrics` exports them (metrics/scrape.ts). */
export type NodeStat = {
  /** Streams of the ingest app that have a publishing client (the relay is a player). */
  publishers: number
  /** Bytes the node received / sent since nginx started (counters: they restart with nginx). */
  bytesIn: number
  bytesOut: number
  /** Current bandwidth in bits per second, as nginx-rtmp reports it (`bw_in`, `bw_out`). */
  bwIn: number
  bwOut: number
  /** RTMP clients per application (`<live><nclients>`): publishers, the relay and its player. */
  clients: Record<string, number>
}

const num = (v: string | undefined) => {
  const n = Number(v)
  return Number.isFinite(n) && n >= 0 ? n : 0
}

/**
 * The node-wide figures sit before the first `<server>`; anything unreadable counts as 0. Returns
 * null for a document that is not nginx-rtmp's stat at all (a misrouted URL, an HTML error page).
 */
export function parseNodeStat(xml: string, ingestApp = 'live'): NodeStat | null {
  if (!xml.includes('<rtmp>')) return null
  const head = xml.slice(0, xml.indexOf('<server>') === -1 ? xml.length : xml.indexOf('<server>'))
  const clients: Record<string, number> = {}
  let publishers = 0
  for (const application of blocks(xml, 'application')) {
    const name = tag(application, 'name')
    if (!name) continue
    // The application's own <nclients> follows its last </stream>.
    const live = blocks(application, 'live')[0] ?? ''
    const tail = live.slice(live.lastIndexOf('</stream>') + 1)
    clients[name] = (clients[name] ?? 0) + num(tag(tail, 'nclients'))
    if (name === ingestApp)
      publishers += blocks(application, 'stream').filter((s) =>
        blocks(s, 'client').some((c) => c.includes('<publishing/>')),
      ).length
  }
  return {
    publishers,
    bytesIn: num(tag(head, 'bytes_in')),
    bytesOut: num(tag(head, 'bytes_out')),
    bwIn: num(tag(head, 'bw_in')),
    bwOut: num(tag(head, 'bw_out')),
    clients,
  }
}
