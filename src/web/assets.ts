/**
 * @module web/assets — the browser bundle scripts/build-web.ts writes to public/build: the manifest
 * that maps entry names to content-hashed URLs, and `/assets/*`, served with a one-year immutable
 * cache (a changed file gets a new name) and precompressed variants.
 *
 * The bundle is found relative to this module, from src/ (tsx) and from dist/src/ (compiled; the
 * image keeps it at /app/public/build). A missing bundle is not fatal: pages still render
 * server-side, without their scripts, and one warning says how to build it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { serveStatic } from '@hono/node-server/serve-static'
import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../log.js'

export type Manifest = { files: Record<string, string>; preload: Record<string, string[]> }

/** `<root>/public/build/` seen from src/web (tsx) or from dist/src/web (compiled, and in the image). */
const BUILD_DIR = fileURLToPath(
  ['../../public/build/', '../../../public/build/']
    .map((rel) => new URL(rel, import.meta.url))
    .find((url) => existsSync(url)) ?? new URL('../../public/build/', import.meta.url),
)
/** One warning per process, however many apps a test creates. */
let warned = false

export type AssetLookup = {
  /** `/assets/<name>-<hash>.js` for an entry (`channel.js`, `app.css`, `hls.worker.js`), or null. */
  url(entry: string): string | null
  /** Shared chunks an entry imports, to modulepreload. */
  preload(entry: string): string[]
}

/** Re-reads the manifest when it changes on disk (a rebuild while the dev stack runs). */
export function createAssets(log: Logger, buildDir = BUILD_DIR): AssetLookup {
  const manifestPath = `${buildDir}manifest.json`
  let cached: { mtimeMs: number; manifest: Manifest } | null = null
  const current = (): Manifest | null => {
    const st = statSync(manifestPath, { throwIfNoEntry: false })
    if (!st) {
      if (!warned)
        log.warn(
          { manifestPath },
          'web bundle not built: pages render without scripts (run npm run build:web)',
        )
      warned = true
      return null
    }
    if (cached?.mtimeMs !== st.mtimeMs) {
      cached = { mtimeMs: st.mtimeMs, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest }
    }
    return cached.manifest
  }
  return {
    url: (entry) => current()?.files[entry] ?? null,
    preload: (entry) => current()?.preload[entry] ?? [],
  }
}

/** `/assets/*`: hashed files only, so they may be cached forever. */
export function serveAssets(buildDir = BUILD_DIR): MiddlewareHandler {
  // serveStatic complains at construction when its root is missing; the bundle may be built later.
  let serve: MiddlewareHandler | null = null
  return async (c, next) => {
    if (!serve && !existsSync(`${buildDir}assets`)) return next()
    serve ??= staticFiles(buildDir)
    const res = await serve(c, next)
    // Only what was found is immutable; a 404 (from next()) must stay uncached.
    if (res instanceof Response && (res.status === 200 || res.status === 206)) {
      res.headers.set('Cache-Control', 'public, max-age=31536000, immutable')
    }
    return res
  }
}

function staticFiles(buildDir: string): MiddlewareHandler {
  return serveStatic({
    root: `${buildDir}assets`,
    precompressed: true,
    rewriteRequestPath: (path) => path.replace(/^\/assets/, ''),
  })
}
