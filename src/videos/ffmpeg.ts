/**
 * @module videos/ffmpeg — the media work, all by ffmpeg/ffprobe child processes: remux recorded
 * flv parts into an HLS VOD and a faststart MP4 without re-encoding, measure the duration, grab a
 * thumbnail. Failures carry ffmpeg's last error line, never a whole stderr (it names paths).
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { VOD_FILES } from './paths.js'

export type RunResult = { stdout: string }

/** Runs a tool; resolves with its stdout, rejects with its last error line. */
export function run(cmd: string, args: string[], timeoutMs = 30 * 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4096)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return resolve({ stdout })
      const last = stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? ''
      reject(new Error(`${cmd} exited ${code ?? signal}${last ? `: ${last}` : ''}`))
    })
  })
}

/**
 * One read of the parts, two outputs: HLS (4 s segments, `#EXT-X-ENDLIST`, playlist type VOD)
 * and an MP4 with its index up front (plays while downloading). The concat demuxer makes the
 * parts' timestamps continuous.
 */
export async function remux(parts: string[], outDir: string): Promise<RunResult> {
  const list = join(outDir, 'parts.txt')
  // The concat list's own quoting: a single quote is written as '\'' (paths are ours anyway).
  await writeFile(list, parts.map((p) => `file '${p.replaceAll("'", "'\\''")}'`).join('\n'))
  return run('ffmpeg', [
    ...'-hide_banner -nostdin -loglevel error -y'.split(' '),
    ...['-f', 'concat', '-safe', '0', '-i', list],
    ...['-map', '0:v?', '-map', '0:a?', '-c', 'copy'],
    ...['-f', 'hls', '-hls_time', '4', '-hls_playlist_type', 'vod', '-hls_list_size', '0'],
    ...['-hls_segment_filename', join(outDir, 'seg%05d.ts'), join(outDir, VOD_FILES.playlist)],
    ...['-map', '0:v?', '-map', '0:a?', '-c', 'copy', '-movflags', '+faststart'],
    join(outDir, VOD_FILES.mp4),
  ])
}

/** The container's duration in seconds (ffprobe). */
export async function probeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    ...'-v error -show_entries format=duration -of default=noprint_wrappers=1:nokey=1'.split(' '),
    file,
  ])
  const d = Number(stdout.trim())
  if (!Number.isFinite(d) || d <= 0) throw new Error(`ffprobe: no duration for ${VOD_FILES.mp4}`)
  return d
}

/** One frame, 320 px wide, as JPEG: `atS` into the input (a file or a live playlist URL). */
export function thumbnail(input: string, out: string, atS = 0): Promise<RunResult> {
  return run(
    'ffmpeg',
    [
      ...'-hide_banner -nostdin -loglevel error -y'.split(' '),
      ...(atS > 0 ? ['-ss', atS.toFixed(2)] : []),
      ...['-i', input, '-frames:v', '1', '-vf', 'scale=320:-2', '-q:v', '5', '-f', 'image2', out],
    ],
    20_000,
  )
}
