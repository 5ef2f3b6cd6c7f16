/** @module log — the structured JSON logger and what it must never print. */
import { type DestinationStream, type Logger, pino } from 'pino'

export type { Logger }

/**
 * Secrets that may sit in objects we log. Stream keys travel as the RTMP stream `name`, so hook
 * bodies are never logged at all; these paths are a second line of defence.
 */
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'key',
  '*.key',
  'streamKey',
  '*.streamKey',
  'secret',
  '*.secret',
  'headers.authorization',
  'headers.cookie',
]

/**
 * drizzle's query error repeats every bound value after `params:` (emails, hashes, addresses,
 * key ids) in its message and so in its stack; postgres.js's error carries them as `parameters`,
 * and Postgres quotes a value it could not read at the end of its message (`invalid input syntax
 * for type uuid: "…"`). None of them reaches a log line: errors are logged as their type, a
 * message without values, the SQLSTATE code, the stack frames and the cause — never their other
 * fields.
 */
function safeMessage(e: Error): string {
  const message = e.message.replace(/\nparams: [\s\S]*$/, '')
  const code = (e as { code?: unknown }).code
  const fromPostgres = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
  return fromPostgres ? message.replace(/: "[\s\S]*"$/, ': "[value withheld]"') : message
}

function serializeErr(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.replace(/\nparams: [\s\S]*$/, '')
  if (!(v instanceof Error)) return v
  const type = v.constructor.name
  const message = safeMessage(v)
  const out: Record<string, unknown> = { type, message }
  const code = (v as { code?: unknown }).code
  if (typeof code === 'string') out.code = code
  const frames = v.stack?.split('\n').filter((l) => l.startsWith('    at '))
  if (frames?.length) out.stack = [`${type}: ${message}`, ...frames].join('\n')
  const cause = (v as { cause?: unknown }).cause
  if (cause instanceof Error && depth < 3) out.cause = serializeErr(cause, depth + 1)
  return out
}

/**
 * One line saying what went wrong, for logs and for the `error` columns operators read (outbox,
 * videos): a failed query reads as the database's own reason and the statement, without values.
 */
export function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const message = safeMessage(err)
  const cause = (err as { cause?: unknown }).cause
  if (message.startsWith('Failed query:') && cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return `${safeMessage(cause)}${typeof code === 'string' ? ` (${code})` : ''}; ${message.slice(0, 200)}`
  }
  return message
}

export function createLogger(opts: {
  level: string
  name?: string
  destination?: DestinationStream
}): Logger {
  const options = {
    level: opts.level,
    name: opts.name ?? 'live',
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: (v: unknown) => serializeErr(v) },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}
