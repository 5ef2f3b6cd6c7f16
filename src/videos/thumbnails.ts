/**
 * @module videos/thumbnails — live thumbnails: every THUMBNAIL_INTERVAL_S (a repeatable job, so
 * one instance does it per round) one frame of each live channel, read from its ingest node's
 * HLS on the internal control server (never the public origin, which may ask for a grant), is
 * written to `thumbs/<channel>.jpg` (served at `/thumbs/<channel>.jpg`) with an atomic rename, so
 * a viewer never gets half a JPEG. Each refresh is a `stream.thumbnail` webhook event.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Db } from '../db/client.js'
import type { LiveEntry } from '../live/registry.js'
import { errText, type Logger } from '../log.js'
import { emitWebhookEvent } from '../webhooks/emit.js'
import { thumbnail } from './ffmpeg.js'
import { liveThumbUrl, type MediaPaths } from './paths.js'

const PARALLEL = 2
/** Thumbnails of channels that stopped are removed after this. */
const STALE_MS = 3600_000

export function createThumbnailRefresher(d: {
  db: Db
  log: Logger
  paths: MediaPaths
  live: { list(): Promise<LiveEntry[]> }
  /** node id → its control server base URL (INGEST_NODES). */
  ingestNodes: Record<string, string>
  now: () => number
}) {
  async function one(e: LiveEntry): Promise<boolean> {
    const base = d.ingestNodes[e.node]
    if (!base) return false
    const out = join(d.paths.thumbs, `${e.channel}.jpg`)
    const tmp = join(d.paths.thumbs, `.${e.channel}.tmp.jpg`)
    try {
      await thumbnail(`${base}/hls/${e.channel}/index.m3u8`, tmp)
      await rename(tmp, out)
    } catch (err) {
      d.log.debug({ channel: e.channel, err: errText(err) }, 'thumbnail: grab failed')
      await rm(tmp, { force: true })
      return false
    }
    const at = d.now()
    await emitWebhookEvent(d.db, {
      type: 'stream.thumbnail',
      at,
      userId: e.userId,
      key: `stream.thumbnail:${e.sessionId}:${at}`,
      data: { channel: e.channel, sessionId: e.sessionId, thumbnailUrl: liveThumbUrl(e.channel) },
    }).catch((err) => d.log.warn({ err: errText(err) }, 'thumbnail: webhook not recorded'))
    return true
  }

  return async function refresh(): Promise<{ refreshed: number }> {
    await mkdir(d.paths.thumbs, { recursive: true })
    const live = (await d.live.list()).filter((e) => e.state === 'live')
    let refreshed = 0
    for (let i = 0; i < live.length; i += PARALLEL) {
      const done = await Promise.all(live.slice(i, i + PARALLEL).map(one))
      refreshed += done.filter(Boolean).length
    }
    // Offline channels keep their last frame for a while (the directory fades them), then lose it.
    const names = await readdir(d.paths.thumbs)
    await Promise.all(
      names.map(async (n) => {
        const st = await stat(join(d.paths.thumbs, n)).catch(() => null)
        if (st && d.now() - st.mtimeMs > STALE_MS) await rm(join(d.paths.thumbs, n), { force: true })
      }),
    )
    return { refreshed }
  }
}
