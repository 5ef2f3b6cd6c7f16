/**
 * @module videos/paths — where media lives on disk (MEDIA_DIR, shared with nginx: see
 * scripts/lib/nginx.ts mediaDirs) and the public URLs nginx serves it under. Only the remuxed
 * output is ever public (`/vod/<videoId>/…`); recordings/ is never served.
 */
import { join, resolve } from 'node:path'

export type MediaPaths = { recordings: string; videos: string; thumbs: string; work: string }

export function mediaPaths(mediaDir: string): MediaPaths {
  const root = resolve(mediaDir)
  return {
    recordings: join(root, 'recordings'),
    videos: join(root, 'videos'),
    thumbs: join(root, 'thumbs'),
    /** Scratch space of jobs: never served. */
    work: join(root, 'work'),
  }
}

/** The files of a ready video, all under one directory named by its id. */
export const VOD_FILES = { playlist: 'index.m3u8', mp4: 'download.mp4', thumb: 'thumb.jpg' } as const

export const vodUrl = (videoId: string, file: string) => `/vod/${videoId}/${file}`
export const liveThumbUrl = (channel: string) => `/thumbs/${channel}.jpg`
