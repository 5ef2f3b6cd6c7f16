/**
 * @module test/smtp — a real SMTP server (smtp-server) on a loopback port for the mail tests: the
 * app's nodemailer transport talks SMTP to it over a socket, and tests read what was delivered.
 */
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export type Delivered = { from: string; to: string[]; raw: string; subject: string; text: string }

/** Undoes quoted-printable, which nodemailer picks for long lines (such as links). */
function decodeQuotedPrintable(s: string): string {
  const bytes = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

function parse(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const body = raw.slice(split + 4)
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim() ?? ''
  const encoding = header('Content-Transfer-Encoding').toLowerCase()
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body
  return { subject: header('Subject'), text }
}

export type SmtpCapture = {
  url: string
  mails: Delivered[]
  /** The next mail to `to` not yet taken (waits for it if it is still on its way). */
  next(to: string): Promise<Delivered>
  /** Mails to `to` not yet taken, without waiting. */
  pending(to: string): Delivered[]
  /**
   * A broken relay: 'refuse' answers every MAIL FROM with 451 (temporary failure), 'hang' never
   * answers it; 'ok' heals it (and fails the hung transactions, so their senders retry).
   */
  setMode(mode: 'ok' | 'refuse' | 'hang'): void
  /** Transactions the broken relay has refused or is holding. */
  readonly refused: number
  close(): Promise<void>
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const mails: Delivered[] = []
  const taken = new Set<Delivered>()
  const waiters: { to: string; resolve: (m: Delivered) => void }[] = []
  const deliver = (m: Delivered) => {
    mails.push(m)
    const i = waiters.findIndex((w) => m.to.includes(w.to))
    if (i >= 0) {
      taken.add(m)
      waiters.splice(i, 1)[0]!.resolve(m)
    }
  }
  let mode: 'ok' | 'refuse' | 'hang' = 'ok'
  let refused = 0
  const hung: ((err?: Error) => void)[] = []
  const tempFailure = () => Object.assign(new Error('relay unavailable'), { responseCode: 451 })
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (mode === 'ok') return callback()
      refused++
      if (mode === 'refuse') return callback(tempFailure())
      hung.push(callback)
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        deliver({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parse(raw),
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as AddressInfo
  const pending = (to: string) => mails.filter((m) => !taken.has(m) && m.to.includes(to))
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    pending,
    next(to) {
      const ready = pending(to)[0]
      if (ready) {
        taken.add(ready)
        return Promise.resolve(ready)
      }
      return new Promise((resolve) => waiters.push({ to, resolve }))
    },
    setMode(next) {
      mode = next
      if (next === 'ok') for (const callback of hung.splice(0)) callback(tempFailure())
    },
    get refused() {
      return refused
    },
    close: () => {
      for (const callback of hung.splice(0)) callback(tempFailure())
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The first link in a mail that starts with `prefix`. */
export function linkIn(mail: Delivered, prefix: string): URL {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const m = new RegExp(`${escaped}\\S+`).exec(mail.text)
  if (!m) throw new Error(`no link starting with ${prefix} in:\n${mail.text}`)
  return new URL(m[0])
}
