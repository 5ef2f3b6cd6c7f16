/**
 * The three servers the chat fan-out benchmark compares, each run as its own child process
 * (so its RSS is its own): `node --expose-gc --import tsx chat-fanout-server.ts <kind>`.
 *   service  — this app (src/server.ts), configured from the environment like src/main.ts
 *   socketio — Socket.IO 4 with @socket.io/redis-adapter, websocket transport only
 *   bare     — a ws server that sends every frame it receives to every client (the ceiling)
 * Prints `ready <port>` on stdout; SIGUSR2 runs a full GC so the parent can read a settled RSS.
 */
import { createServer } from 'node:http'
import v8 from 'node:v8'
import { WebSocketServer } from 'ws'

const kind = process.argv[2]
const port = Number(process.env.BENCH_PORT ?? 0)
const gc = (globalThis as { gc?: () => void }).gc
process.on('SIGUSR2', () => {
  // Twice, a second apart: V8 shrinks the heap it keeps committed (which RSS counts) only on a
  // later collection, so a single GC right after a connect storm overstates steady-state RSS.
  gc?.()
  setTimeout(() => {
    gc?.()
    setTimeout(() => {
      // Debugging aid: BENCH_HEAP_DIR=/tmp/heaps writes a heap snapshot at each GC request.
      if (process.env.BENCH_HEAP_DIR)
        v8.writeHeapSnapshot(`${process.env.BENCH_HEAP_DIR}/${kind}-${Date.now()}.heapsnapshot`)
      process.stdout.write(`gc ${JSON.stringify(process.memoryUsage())}\n`)
    }, 1000)
  }, 1000)
})

async function service(): Promise<number> {
  const { loadConfig } = await import('../../src/config.js')
  const { startServer } = await import('../../src/server.js')
  const running = await startServer(loadConfig(process.env), { port })
  process.on('SIGTERM', () => void running.shutdown().then(() => process.exit(0)))
  return running.port
}

async function socketio(): Promise<number> {
  const { Server } = await import('socket.io')
  const { createAdapter } = await import('@socket.io/redis-adapter')
  const { Redis } = await import('ioredis')
  const pub = new Redis(process.env.REDIS_URL!)
  const sub = pub.duplicate()
  const http = createServer()
  const io = new Server(http, {
    transports: ['websocket'],
    perMessageDeflate: false,
    serveClient: false,
    adapter: createAdapter(pub, sub),
  })
  io.on('connection', (socket) => {
    void socket.join('bench')
    socket.on('pub', (frame: unknown) => io.to('bench').emit('chat', frame))
  })
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r))
  process.on('SIGTERM', () => io.close(() => process.exit(0)))
  return (http.address() as { port: number }).port
}

async function bare(): Promise<number> {
  const http = createServer()
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 })
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary })
    })
  })
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r))
  process.on('SIGTERM', () => process.exit(0))
  return (http.address() as { port: number }).port
}

const start = { service, socketio, bare }[kind ?? '']
if (!start) {
  console.error('usage: chat-fanout-server.ts service|socketio|bare')
  process.exit(2)
}
const listening = await start()
process.stdout.write(`ready ${listening}\n`)
