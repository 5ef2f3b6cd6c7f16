/** @module web/shared/format — formatting shared by the server-rendered pages and the browser modules. */

/** "45 s", "12 min", "2 h 05 min": how long a channel has been live, for listings. */
export function liveFor(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** "0:42", "12:05", "1:02:03": the running clock on the channel page. */
export function uptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h > 0 ? 2 : 1, '0')
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

/** 950 → "950", 1234 → "1.2K", 2_500_000 → "2.5M". */
export function compactCount(n: number): string {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0).replace(/\.0$/, '')}K`
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`
}

export function viewersLabel(n: number): string {
  return `${compactCount(n)} ${n === 1 ? 'viewer' : 'viewers'}`
}

/** A stable hue per name, for avatars and chat names (light enough to read on the dark theme). */
export function hueOf(name: string): number {
  let h = 2166136261
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619)
  return (h >>> 0) % 360
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  })
}

const PROBE_ORIGIN = 'http://next.invalid'
/** Control characters, any whitespace (browsers drop tabs and newlines inside URLs) and backslashes (read as `/`). */
const UNSAFE_CHAR = /[\p{Cc}\s\\]/u
const leavesSite = (p: string) => !p.startsWith('/') || p.startsWith('//') || UNSAFE_CHAR.test(p)

/**
 * `?next=` after login: only a path on this origin, anything else becomes `fallback`. The one
 * place this is decided (the login page and every `next` link go through it).
 *
 * Refused: absolute and scheme URLs (`https:`, `javascript:`), protocol-relative `//host`, `/\host`
 * (browsers read `\` as `/`), tabs, newlines and other whitespace (browsers strip them, so
 * `/\t/host` is `//host`), and the same tricks percent-encoded (`/%2F%2Fhost`, `/%5Chost`, also
 * double-encoded): every decoding layer must pass too. Finally the path is resolved against a
 * probe origin and must stay on it, and its normalised form must not start with `//` either
 * (`/..//host` resolves to `//host`).
 */
export function safeNext(next: string | null | undefined, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || next.length > 2048) return fallback
  // Each percent-decoding layer must be safe too; more than a few layers is itself suspicious.
  let layer = next
  for (let depth = 0; ; depth++) {
    if (leavesSite(layer)) return fallback
    let decoded: string
    try {
      decoded = decodeURIComponent(layer)
    } catch {
      return fallback // malformed escapes: nothing we want to navigate to
    }
    if (decoded === layer) break
    if (depth === 3) return fallback
    layer = decoded
  }
  let url: URL
  try {
    url = new URL(next, PROBE_ORIGIN)
  } catch {
    return fallback
  }
  if (url.origin !== PROBE_ORIGIN) return fallback
  const path = url.pathname + url.search + url.hash
  return leavesSite(path) ? fallback : path
}
