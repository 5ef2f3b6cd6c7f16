/**
 * @module
 * Test stand-in for OBS: an ffmpeg RTMP publisher with synthetic audio and
 * video, plus the polling helpers the stream tests need (HLS appears a
 * second or more after publish, so tests wait on conditions, never sleep).
 */
import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'

export interface PublisherOptions {
  /** rtmp://host:port/app/key[?args] */
  url: string
  /** stop by itself after this many seconds (ffmpeg -t) */
  durationS?: number
  /** pace input at real time, as a live encoder does (ffmpeg -re); default true */
  realtime?: boolean
  /** output options placed before the URL, e.g. TLS settings for rtmps:// (`-ca_file`, `-tls_verify`) */
  outputArgs?: string[]
}

export interface PublisherHandle {
  pid: number
  exited: Promise<{ code: number | null; signal: string | null }>
  /** the last 16 KiB of ffmpeg's stderr */
  stderr(): string
  /** SIGTERM (ffmpeg closes the stream), SIGKILL after 5 s; waits for exit */
  stop(): Promise<void>
  kill(signal?: NodeJS.Signals): void
}

export function startPublisher({
  url,
  durationS,
  realtime = true,
  outputArgs = [],
}: PublisherOptions): PublisherHandle {
  // 1 s GOP: nginx-rtmp cuts HLS segments on keyframes only, and
  // hls_fragment is 1s. yuv420p keeps the H.264 playable in browsers.
  // (Split on spaces for readability: no value below contains one.)
  const args = [
    ...'-hide_banner -nostdin -loglevel warning'.split(' '),
    ...(realtime ? ['-re'] : []),
    ...'-f lavfi -i testsrc2=size=320x180:rate=30'.split(' '),
    ...'-f lavfi -i sine=frequency=440:sample_rate=44100'.split(' '),
    ...'-c:v libx264 -preset ultrafast -tune zerolatency -pix_fmt yuv420p'.split(' '),
    ...'-g 30 -keyint_min 30 -sc_threshold 0 -b:v 300k -c:a aac -b:a 64k'.split(' '),
    ...(durationS === undefined ? [] : ['-t', String(durationS)]),
    ...outputArgs,
    ...['-f', 'flv', url],
  ]
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-16_384)
  })
  let running = true
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) => {
    child.once('exit', (code, signal) => {
      running = false
      done({ code, signal })
    })
    // ENOENT etc.: report as a failed exit instead of an unhandled error.
    child.once('error', (err) => {
      running = false
      stderr += `\nspawn failed: ${err.message}`
      done({ code: null, signal: null })
    })
  })
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (running) child.kill(signal)
  }
  return {
    pid: child.pid ?? -1,
    exited,
    stderr: () => stderr,
    kill,
    async stop() {
      kill('SIGTERM')
      const timer = setTimeout(() => kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** named in the timeout error */
  what?: string
}

/**
 * Polls until `predicate` returns a truthy value and returns it. A throwing
 * predicate counts as "not yet"; its last error is in the timeout message.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 100, what = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await new Promise((done) => setTimeout(done, intervalMs))
  }
}

export async function waitForFile(path: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => access(path).then(() => true), { timeoutMs, what: `file ${path}` })
}

export interface ProbeStream {
  index: number
  codec_type: 'video' | 'audio' | string
  codec_name?: string
  width?: number
  height?: number
  pix_fmt?: string
  sample_rate?: string
  [field: string]: unknown
}

/**
 * ffprobe's view of a URL or file: its streams and the container's duration in seconds (null when
 * it has none, a live playlist); rejects with ffprobe's stderr on failure.
 */
export function ffprobe(
  url: string,
  timeoutMs = 20_000,
): Promise<{ streams: ProbeStream[]; durationS: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    // A stalled RTMP or HTTP source would otherwise hang the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`ffprobe ${url} failed (${code ?? signal}): ${err.trim()}`))
      try {
        const parsed = JSON.parse(out) as { streams?: ProbeStream[]; format?: { duration?: string } }
        const durationS = Number(parsed.format?.duration)
        resolve({ streams: parsed.streams ?? [], durationS: Number.isFinite(durationS) ? durationS : null })
      } catch (e) {
        reject(e)
      }
    })
  })
}
