/**
 * @module videos/recordings — finds the flv parts nginx-rtmp wrote for one broadcast. nginx names
 * each publish `<channel>-<unix s>.flv` (`record_unique on`, in the internal hls app, where the
 * stream carries the channel's name, never the key); a broadcast with blips inside the reconnect
 * window is several parts, concatenated in order by the remux.
 *
 * A part belongs to a session when it was opened between the session's start (the relay publishes
 * just after on_publish answered: at most 1 s of flooring earlier) and its end (the publisher's
 * last departure). Sessions of one channel never overlap, and the next one starts after this one's
 * offline event, so the ranges are disjoint.
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

export type Part = { name: string; startedS: number }

const PART = /^([a-z0-9_]{3,24})-(\d{1,12})\.flv$/

/** The parts of `channel` opened within [startedAt − 1 s, endedAt], oldest first. */
export function selectParts(names: string[], channel: string, startedAt: number, endedAt: number): Part[] {
  const parts: Part[] = []
  for (const name of names) {
    const m = PART.exec(name)
    if (!m || m[1] !== channel) continue
    const ms = Number(m[2]) * 1000
    if (ms >= startedAt - 1000 && ms <= endedAt) parts.push({ name, startedS: Number(m[2]) })
  }
  return parts.sort((a, b) => a.startedS - b.startedS || a.name.localeCompare(b.name))
}

export async function sessionParts(
  dir: string,
  s: { channel: string; startedAt: number; endedAt: number },
): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[]
    throw err
  })
  return selectParts(names, s.channel, s.startedAt, s.endedAt).map((p) => join(dir, p.name))
}

/** Deletes a session's parts (kept as a video, or not to be kept at all). */
export async function discardParts(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })))
}
