/**
 * @module test/support/webhook-receiver — a real HTTP receiver on 127.0.0.1 for webhook tests: it
 * records every request (headers, raw body) and answers with the status `respond` picks.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Received = {
  headers: IncomingHttpHeaders
  body: string
  json: { type: string; sequence: number; data: Record<string, unknown> }
}

export async function startReceiver(
  respond: (r: Received, n: number) => number | Promise<number> = () => 200,
  host = '127.0.0.1',
) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const r: Received = { headers: req.headers, body, json: JSON.parse(body) }
      received.push(r)
      void Promise.resolve(respond(r, received.length)).then((status) =>
        res.writeHead(status, { 'content-type': 'text/plain' }).end('ok from receiver'),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://${host}:${port}/hook`,
    received,
    /** Requests carrying this `webhook-id`. */
    byId: (id: string) => received.filter((r) => r.headers['webhook-id'] === id),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>
