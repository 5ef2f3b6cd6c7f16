/**
 * @module test/support/kustomize — the subset of `kustomize build` deploy/k8s uses, so the manifests
 * can be checked without kubectl or a cluster: `resources` (files and folders, recursively),
 * `namespace`, `images`, `replicas`, `patches` (strategic merge by kind and name: maps merge,
 * lists of named items merge by name, other lists are replaced), `secretGenerator` (`envs`,
 * `files`, `type`) with `generatorOptions.disableNameSuffixHash`. Anything else it refuses, so a
 * kustomization never uses a feature this check silently skips.
 */
import { readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseAllDocuments } from 'yaml'

export type Manifest = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked by schema, not by this type
  [field: string]: any
}

type Kustomization = {
  resources?: string[]
  namespace?: string
  images?: { name: string; newName?: string; newTag?: string }[]
  replicas?: { name: string; count: number }[]
  patches?: { path: string }[]
  generatorOptions?: { disableNameSuffixHash?: boolean }
  secretGenerator?: { name: string; type?: string; envs?: string[]; files?: string[] }[]
}
const KNOWN = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'replicas',
  'patches',
  'generatorOptions',
  'secretGenerator',
])

/** Reads a file a secretGenerator names; tests pass one that reads the committed `.example` templates. */
export type ReadSecretFile = (path: string) => string

export function parseYamlDocuments(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0]!.message}`)
      return doc.toJS() as Manifest | null
    })
    .filter((d): d is Manifest => d !== null)
}

export function kustomizeBuild(dir: string, readSecretFile: ReadSecretFile): Manifest[] {
  const k = parseYamlDocuments(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization
  for (const key of Object.keys(k)) if (!KNOWN.has(key)) throw new Error(`${dir}: unsupported field ${key}`)
  const out: Manifest[] = []
  for (const r of k.resources ?? []) {
    const path = join(dir, r)
    out.push(
      ...(statSync(path).isDirectory() ? kustomizeBuild(path, readSecretFile) : parseYamlDocuments(path)),
    )
  }
  if (k.secretGenerator && !k.generatorOptions?.disableNameSuffixHash)
    throw new Error(`${dir}: name suffix hashes are not modelled here`)
  for (const g of k.secretGenerator ?? []) {
    const data: Record<string, string> = {}
    for (const env of g.envs ?? [])
      for (const line of readSecretFile(join(dir, env)).split('\n')) {
        const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
        if (m) data[m[1]!] = m[2]!
      }
    for (const file of g.files ?? []) {
      const [key, path] = file.includes('=') ? file.split('=', 2) : [basename(file), file]
      data[key!] = readSecretFile(join(dir, path!))
    }
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: g.name },
      type: g.type ?? 'Opaque',
      data: Object.fromEntries(
        Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')]),
      ),
    })
  }
  for (const { path } of k.patches ?? []) {
    for (const patch of parseYamlDocuments(join(dir, path))) {
      const target = out.find((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name)
      if (!target) throw new Error(`${path}: no ${patch.kind}/${patch.metadata.name} to patch`)
      Object.assign(target, merge(target, patch))
    }
  }
  for (const { name, count } of k.replicas ?? []) {
    const target = out.find((m) => m.metadata.name === name && m.spec?.replicas !== undefined)
    if (!target) throw new Error(`replicas: no workload ${name}`)
    target.spec.replicas = count
  }
  for (const image of k.images ?? []) {
    let used = false
    for (const m of out)
      for (const c of containersOf(m))
        if (c.image.split(':')[0] === image.name) {
          c.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ''}`
          used = true
        }
    if (!used) throw new Error(`images: nothing runs ${image.name}`)
  }
  if (k.namespace)
    for (const m of out) if (m.kind !== 'Namespace') m.metadata = { ...m.metadata, namespace: k.namespace }
  return out
}

// biome-ignore lint/suspicious/noExplicitAny: containers of any workload kind
export function containersOf(m: Manifest): any[] {
  const pod = m.spec?.template?.spec
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : []
}

function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (xs: unknown[]) => xs.every((x) => typeof x === 'object' && x !== null && 'name' in x)
    if (!named(base) || !named(patch)) return patch
    const result = [...base] as { name: string }[]
    for (const item of patch as { name: string }[]) {
      const i = result.findIndex((x) => x.name === item.name)
      if (i === -1) result.push(item)
      else result[i] = merge(result[i], item) as { name: string }
    }
    return result
  }
  if (isMap(base) && isMap(patch)) {
    const result: Record<string, unknown> = { ...base }
    for (const [key, value] of Object.entries(patch))
      result[key] = key in base ? merge(base[key], value) : value
    return result
  }
  return patch
}

const isMap = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
