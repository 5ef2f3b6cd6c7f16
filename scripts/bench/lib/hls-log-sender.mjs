// Sends what nginx's edge would for N HLS viewers: one syslog datagram per viewer per second (a
// segment request), spread evenly over each second, to 127.0.0.1:<port>. A separate process, so
// its CPU is not charged to the ingestion being measured. Prints {sent, seconds} as JSON at the end.
// Usage: node hls-log-sender.mjs <port> <viewers> <seconds> <channels>
import { createSocket } from 'node:dgram'

const [port, viewers, seconds, channels] = process.argv.slice(2).map(Number)
const sock = createSocket('udp4')
await new Promise((r) => sock.connect(port, '127.0.0.1', r))
const TICK_MS = 10
const start = Date.now()
let sent = 0
let due = 0
let v = 0
let failed = 0
const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'

function line(now, viewer) {
  const seg = Math.floor(now / 1000) * 1000
  const addr = `10.${(viewer >> 16) & 255}.${(viewer >> 8) & 255}.${viewer & 255}`
  return `<190>Nov 29 23:59:59 lvhls: ${(now / 1000).toFixed(3)}\t${addr}\t200\t187000\t/hls/bench_${viewer % channels}/${seg}.ts\t-\t${ua}`
}

await new Promise((done) => {
  const tick = () => {
    const now = Date.now()
    if (now - start >= seconds * 1000) return done()
    // By elapsed time, not ticks: behind schedule (a busy machine) it catches up, as nginx would
    // send what it served.
    due = Math.floor((viewers * (now - start)) / 1000) - sent
    while (due >= 1) {
      sock.send(line(now, v), (err) => err && failed++)
      v = (v + 1) % viewers
      sent++
      due--
    }
    setTimeout(tick, Math.max(0, start + Math.ceil((now - start + 1) / TICK_MS) * TICK_MS - Date.now()))
  }
  tick()
})
await new Promise((r) => setTimeout(r, 200))
sock.close()
process.stdout.write(JSON.stringify({ sent, failed, seconds: (Date.now() - start) / 1000 }))
