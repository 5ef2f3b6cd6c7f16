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

export function createLogger(opts: {
  level: string
  name?: string
  destination?: DestinationStream
}): Logger {
  const options = {
    level: opts.level,
    name: opts.name ?? 'live',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}
