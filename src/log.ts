/** @module log — the structured JSON logger and what it must never print. */
import { pino, type Logger } from 'pino'

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

export function createLogger(opts: { level: string; name?: string }): Logger {
  return pino({
    level: opts.level,
    name: opts.name ?? 'live',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  })
}
