/**
 * @module http/upgrade-refusal — answers a refused WebSocket handshake with a real problem+json
 * response. @hono/node-server turns a non-101 answer to an upgrade into a bodiless
 * `Content-Length: 0` reply, so a client (or the nginx in front) would see a bare status; this
 * writes the whole response to the socket itself and closes it, after which the adapter sees a
 * destroyed socket and stays silent.
 */

import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Problem } from './errors.js'

export function refuseUpgrade(socket: Duplex, p: Problem, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return
  const body = JSON.stringify(p)
  const lines = [
    `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ''}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`)
  // A response this small is handed to the kernel synchronously on a fresh socket; destroying
  // then still sends it (then FIN). Should it ever be buffered, wait for the flush.
  if (socket.writableLength === 0) socket.destroy()
  else socket.once('drain', () => socket.destroy())
}
