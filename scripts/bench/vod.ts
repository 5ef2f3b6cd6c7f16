/**
 * Video benchmark: what recordings cost the app, in CPU seconds per hour of video, through the
 * same functions the jobs run (src/videos/ffmpeg.ts): the remux of a recorded broadcast into HLS
 * VOD + MP4 (stream copy, no re-encode), the duration probe, the VOD thumbnail, and one live
 * thumbnail grab from a live-style HLS playlist (done every THUMBNAIL_INTERVAL_S per live channel).
 *
 * The input is made the way nginx-rtmp records it: FLV parts of an H.264/AAC stream at a typical
 * OBS setting (default 1280×720, 30 fps, 2 s GOP, 3 Mbit/s + 128 kbit/s AAC), split in two
 * parts to include the concat. CPU is the children's user+system time (/proc/self/stat cutime +
 * cstime: every ffmpeg the functions start, waited for), so it is what the work costs wherever it runs.
 *
 * Usage: npm run bench:vod [-- --seconds 120 --size 1280x720 --bitrate 3000k --write docs/benchmarks.md]
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { probeDuration, remux, run, thumbnail } from '../../src/videos/ffmpeg.js'
import { type NginxOptions, renderNginxConfig } from '../lib/nginx.js'
import { freePort, spawnLogged, waitForTcp } from '../lib/proc.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    size: { type: 'string', default: '1280x720' },
    bitrate: { type: 'string', default: '3000k' },
    grabs: { type: 'string', default: '10' },
    write: { type: 'string' },
  },
})
const seconds = Number(args.seconds)
const grabs = Number(args.grabs)

const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
/** CPU seconds used so far by this process's finished children. */
function childCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // After the comm: state is field 3, so cutime (16) and cstime (17) are at index 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / TICK
}
async function measure<T>(fn: () => Promise<T>): Promise<{ cpuS: number; wallS: number; value: T }> {
  const cpu0 = childCpuS()
  const t0 = performance.now()
  const value = await fn()
  return { cpuS: childCpuS() - cpu0, wallS: (performance.now() - t0) / 1000, value }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-vod-'))
try {
  console.log(`encoding ${seconds} s of ${args.size} at ${args.bitrate} as two FLV parts (not measured)…`)
  const parts = [0, 1].map((i) => join(dir, `bench-${1_700_000_000 + i * seconds}.flv`))
  for (const part of parts) {
    await run('ffmpeg', [
      ...'-hide_banner -nostdin -loglevel error -y'.split(' '),
      ...['-f', 'lavfi', '-i', `testsrc2=size=${args.size}:rate=30`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'],
      ...'-c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 60 -keyint_min 60 -sc_threshold 0'.split(' '),
      ...['-b:v', args.bitrate, '-maxrate', args.bitrate, '-bufsize', args.bitrate],
      ...['-c:a', 'aac', '-b:a', '128k', '-t', String(seconds / 2), '-f', 'flv', part],
    ])
  }
  const inputBytes = parts.reduce((n, p) => n + statSync(p).size, 0)

  const out = join(dir, 'out')
  mkdirSync(out)
  const rm = await measure(() => remux(parts, out))
  const probe = await measure(() => probeDuration(join(out, 'download.mp4')))
  const durationS = probe.value
  const vodThumb = await measure(() => thumbnail(join(out, 'download.mp4'), join(out, 'thumb.jpg'), 5))
  const outBytes = readdirSync(out).reduce((n, f) => n + statSync(join(out, f)).size, 0)

  // A live playlist like nginx-rtmp's (1 s fragments, 6 s window) to grab live thumbnails from.
  const live = join(dir, 'live')
  mkdirSync(live)
  await run('ffmpeg', [
    ...'-hide_banner -nostdin -loglevel error -y -i'.split(' '),
    parts[0]!,
    ...'-t 20 -c copy -f hls -hls_time 1 -hls_list_size 6'.split(' '),
    join(live, 'index.m3u8'),
  ])
  const liveGrab = await measure(async () => {
    for (let i = 0; i < grabs; i++) await thumbnail(join(live, 'index.m3u8'), join(dir, 'live.jpg'))
  })
  const grabCpuS = liveGrab.cpuS / grabs

  const perHour = (cpuS: number) => (cpuS / durationS) * 3600
  const mb = (b: number) => (b / 1e6).toFixed(1)
  // The remux reads and writes every byte: it scales with the length. The probe and the VOD
  // thumbnail read the MP4's index and one GOP: a fixed cost per video, whatever its length.
  const remuxPerHour = perHour(rm.cpuS)
  const fixedS = probe.cpuS + vodThumb.cpuS
  const header =
    `${cpus().length}× ${cpus()[0]?.model.trim()}, ffmpeg ${execFileSync('ffmpeg', ['-version']).toString().split(' ')[2]}; ` +
    `input: ${durationS.toFixed(1)} s of ${args.size} H.264 ${args.bitrate} + AAC 128k in 2 FLV parts ` +
    `(${mb(inputBytes)} MB); output HLS + MP4 + JPEG ${mb(outBytes)} MB.`
  const table = [
    '| step | CPU s | wall s | cost |',
    '|---|---:|---:|---:|',
    `| remux (HLS VOD + MP4, -c copy) | ${rm.cpuS.toFixed(2)} | ${rm.wallS.toFixed(2)} | **${remuxPerHour.toFixed(1)} CPU s per hour of video** (${(durationS / rm.wallS).toFixed(0)}× real time) |`,
    `| duration probe (ffprobe) | ${probe.cpuS.toFixed(2)} | ${probe.wallS.toFixed(2)} | per video |`,
    `| VOD thumbnail (one frame at 5 s) | ${vodThumb.cpuS.toFixed(2)} | ${vodThumb.wallS.toFixed(2)} | per video |`,
    `| **one recorded hour, all steps** | | | **${(remuxPerHour + fixedS).toFixed(1)} CPU s** |`,
    `| live thumbnail grab (from a live HLS playlist, mean of ${grabs}) | ${grabCpuS.toFixed(3)} | ${(liveGrab.wallS / grabs).toFixed(3)} | **${(grabCpuS * 120).toFixed(1)} CPU s per live hour** at one grab / 30 s |`,
  ].join('\n')
  const rec = await recordCost(parts[0]!)
  const recTable = [
    `nginx-rtmp recording everything it relays (\`record all\`), against \`record off\`: ${rec.streams} streams ` +
      `of ${args.bitrate} pushed for ${rec.seconds} s to the internal hls app (HLS packaging in both runs).`,
    '',
    '| nginx ingest | CPU s | CPU s per stream-hour | written to recordings/ |',
    '|---|---:|---:|---:|',
    `| record off | ${rec.off.toFixed(2)} | ${((rec.off / (rec.streams * rec.seconds)) * 3600).toFixed(1)} | 0 |`,
    `| record all | ${rec.on.toFixed(2)} | ${((rec.on / (rec.streams * rec.seconds)) * 3600).toFixed(1)} | ${mb(rec.bytes)} MB (${(((rec.bytes / (rec.streams * rec.seconds)) * 3600) / 1e9).toFixed(2)} GB per stream-hour) |`,
  ].join('\n')
  const report = `${header}\n\n${table}\n\n${recTable}`
  console.log(report)
  if (args.write) {
    const doc = readFileSync(args.write, 'utf8')
    const section = `<!-- vod:begin -->\n${report}\n<!-- vod:end -->`
    writeFileSync(
      args.write,
      /<!-- vod:begin -->/.test(doc)
        ? doc.replace(/<!-- vod:begin -->[\s\S]*<!-- vod:end -->/, section)
        : `${doc.trimEnd()}\n\n## Recordings and thumbnails (\`npm run bench:vod -- --write docs/benchmarks.md\`)\n\n${section}\n`,
    )
    console.log(`written to ${args.write}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** CPU seconds (user + system) of a process and its live children, from /proc. */
function treeCpuS(pid: number): number {
  let total = 0
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(name) === pid || Number(f[1]) === pid) total += (Number(f[11]) + Number(f[12])) / TICK
    } catch {
      // gone
    }
  }
  return total
}

/**
 * What `record all` costs the ingest: the same streams pushed (stream copy from a file, paced in
 * real time) into the internal hls app of a real nginx-rtmp, once as configured and once with
 * `record off`; the ingest nginx's CPU and the bytes it wrote to recordings/.
 */
async function recordCost(input: string) {
  const streams = 8
  const seconds = 30
  const runOnce = async (record: boolean) => {
    const runDir = mkdtempSync(join(tmpdir(), 'bench-rec-'))
    const [rtmp, internal, http, control] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ])
    const opts: NginxOptions = {
      runDir,
      nodeId: 'bench',
      hookSecret: 'bench-secret-0123456789',
      rtmpPort: rtmp,
      internalRtmpPort: internal,
      httpPort: http,
      controlPort: control,
      appUpstreams: ['127.0.0.1:9'],
    }
    const conf = renderNginxConfig(opts, 'ingest').replace(
      'record all;',
      record ? 'record all;' : 'record off;',
    )
    for (const d of ['hls', 'logs', 'tmp/ingest', 'media/recordings'])
      mkdirSync(join(runDir, d), { recursive: true })
    writeFileSync(join(runDir, 'nginx.conf'), conf)
    const nginx = spawnLogged('/usr/sbin/nginx', ['-p', `${runDir}/`, '-c', join(runDir, 'nginx.conf')], {
      logFile: join(runDir, 'logs', 'out.log'),
    })
    try {
      await waitForTcp('127.0.0.1', internal, 10_000)
      const cpu0 = treeCpuS(nginx.pid)
      const pubs = Array.from({ length: streams }, (_, i) =>
        run('ffmpeg', [
          ...'-hide_banner -nostdin -loglevel error -re -i'.split(' '),
          input,
          ...['-t', String(seconds), '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${internal}/hls/bench${i}`],
        ]),
      )
      await Promise.all(pubs)
      const cpu = treeCpuS(nginx.pid) - cpu0
      const recDir = join(runDir, 'media', 'recordings')
      const bytes = readdirSync(recDir).reduce((n, f) => n + statSync(join(recDir, f)).size, 0)
      return { cpu, bytes }
    } finally {
      await nginx.stop()
      rmSync(runDir, { recursive: true, force: true })
    }
  }
  const off = await runOnce(false)
  const on = await runOnce(true)
  return { streams, seconds, off: off.cpu, on: on.cpu, bytes: on.bytes }
}
