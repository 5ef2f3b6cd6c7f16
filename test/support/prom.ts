/**
 * @module test/support/prom — a small parser for the Prometheus text exposition format (0.0.4),
 * enough for tests to read a sample by name and labels.
 */

export type Sample = { name: string; labels: Record<string, string>; value: number }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line) continue
    if (line.startsWith('#')) {
      const [, kind, name, type] = line.split(/\s+/)
      if (kind === 'TYPE' && name && type) types.set(name, type)
      continue
    }
    const m = LINE.exec(line)
    if (!m) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL))
      labels[k!] = v!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3])
    samples.push({ name: m[1]!, labels, value })
  }
  return { samples, types }
}

/** The samples named `name` whose labels include `labels`. */
export function find(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return parseExposition(text).samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
}

/** The one sample's value, or undefined when there is no such series. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(text, name, labels)
  if (found.length > 1) throw new Error(`${found.length} series match ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value
}
