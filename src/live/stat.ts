/**
 * @module live/stat — reads nginx-rtmp's `/stat` XML: which streams the ingest app carries, who
 * publishes each (nginx client id), and how many bytes arrived. Only the `live` application is
 * read; the relay into `hls` and its players are ignored.
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
