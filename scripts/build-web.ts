/**
 * @module build-web — bundles the browser modules (src/web/client) and the stylesheet with esbuild
 * into public/build/assets with content-hashed names, precompresses them (br, gzip), and writes
 * public/build/manifest.json, which the pages read to reference them. `tsx scripts/build-web.ts`
 * builds once; `--watch` rebuilds on change (the dev stack uses it).
 *
 * Content hashes make every asset URL immutable, so the app serves them with a one-year cache and
 * a deploy never mixes old and new modules. hls.js is bundled from node_modules and served from our
 * own origin; its transmuxing worker (a separate file in the ESM build) is copied with a hash too.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const clientDir = join(root, 'src/web/client')
export const BUILD_DIR = join(root, 'public/build')

/** What the pages need to reference the bundle: entry name → URL, plus what each entry imports. */
export type Manifest = {
  /** `home.js`, `channel.js`, …, `app.css`, `hls.worker.js` → `/assets/<name>-<hash>.<ext>` */
  files: Record<string, string>
  /** Entry → the shared chunks it imports statically (rendered as modulepreload links). */
  preload: Record<string, string[]>
}

const ENTRIES = ['home', 'channel', 'dashboard', 'account', 'analytics', 'video'] as const

/** hls.js's light build: no subtitles, alternate audio, DRM or CMCD, which a live channel never uses. */
const hlsLight: esbuild.Plugin = {
  name: 'hls-light',
  setup(build) {
    const require = createRequire(import.meta.url)
    const light = join(
      require.resolve('hls.js/package.json').replace(/package\.json$/, ''),
      'dist/hls.light.mjs',
    )
    build.onResolve({ filter: /^hls\.js$/ }, () => ({ path: light }))
  },
}

function hashed(name: string, content: Buffer): string {
  const hash = createHash('sha256').update(content).digest('base64url').slice(0, 10).replace(/[-_]/g, 'x')
  const dot = name.lastIndexOf('.')
  return `${name.slice(0, dot)}-${hash}${name.slice(dot)}`
}

/** Source maps are fetched by developer tools only: not worth compressing on every build. */
const COMPRESSIBLE = /\.(js|css|svg)$/

function precompress(path: string): void {
  const content = readFileSync(path)
  if (content.length < 1024) return
  writeFileSync(`${path}.gz`, gzipSync(content, { level: 9 }))
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(content, {
      // Quality 9 is ~20× faster than 11 for a few percent more bytes: builds stay quick.
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: content.length },
    }),
  )
}

function options(outDir: string, minify: boolean): esbuild.BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: [
      ...ENTRIES.map((name) => ({ in: join(clientDir, `${name}.ts`), out: name })),
      { in: join(clientDir, 'styles.css'), out: 'app' },
    ],
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    // Browsers with module scripts, MediaSource and WebSocket: everything since early 2021.
    target: ['chrome90', 'firefox90', 'safari15', 'edge90'],
    minify,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [hlsLight],
    define: { 'process.env.NODE_ENV': '"production"' },
  }
}

/** Turns esbuild's metafile into the manifest, adds the worker, compresses, drops stale files. */
function finish(outDir: string, metafile: esbuild.Metafile): Manifest {
  const assetsDir = join(outDir, 'assets')
  const files: Record<string, string> = {}
  const preload: Record<string, string[]> = {}
  const url = (out: string) => `/assets/${relative(assetsDir, join(root, out))}`
  for (const [out, meta] of Object.entries(metafile.outputs)) {
    if (!meta.entryPoint) continue
    const entry = basename(meta.entryPoint)
      .replace(/\.ts$/, '.js')
      .replace(/^styles\.css$/, 'app.css')
    files[entry] = url(out)
    if (out.endsWith('.js')) {
      preload[entry] = meta.imports
        .filter((i) => i.kind === 'import-statement' && !i.external)
        .map((i) => url(i.path))
    }
  }
  const require = createRequire(import.meta.url)
  const worker = readFileSync(require.resolve('hls.js/dist/hls.worker.js'))
  const workerName = hashed('hls.worker.js', worker)
  writeFileSync(join(assetsDir, workerName), worker)
  files['hls.worker.js'] = `/assets/${workerName}`

  const keep = new Set<string>([workerName])
  for (const out of Object.keys(metafile.outputs)) keep.add(basename(out))
  for (const name of readdirSync(assetsDir)) {
    const base = name.replace(/\.(br|gz)$/, '')
    const stale = !keep.has(base) || (name !== base && !COMPRESSIBLE.test(base))
    if (stale) rmSync(join(assetsDir, name), { force: true })
    else if (name === base && COMPRESSIBLE.test(name)) precompress(join(assetsDir, name))
  }
  const manifest: Manifest = { files, preload }
  // Written last and atomically: a running app never reads a manifest naming files not yet there.
  const tmp = join(outDir, `manifest.json.${process.pid}.tmp`)
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`)
  renameSync(tmp, join(outDir, 'manifest.json'))
  return manifest
}

export async function buildWeb(opts: { outDir?: string; minify?: boolean } = {}): Promise<Manifest> {
  const outDir = opts.outDir ?? BUILD_DIR
  mkdirSync(join(outDir, 'assets'), { recursive: true })
  const result = await esbuild.build(options(outDir, opts.minify ?? true))
  return finish(outDir, result.metafile!)
}

/** Rebuilds on every change under src/web/client; resolves once the first build is written. */
export async function watchWeb(opts: { outDir?: string; onRebuild?: (errors: number) => void } = {}) {
  const outDir = opts.outDir ?? BUILD_DIR
  mkdirSync(join(outDir, 'assets'), { recursive: true })
  let first: (() => void) | undefined
  const firstBuild = new Promise<void>((resolve) => {
    first = resolve
  })
  const ctx = await esbuild.context({
    ...options(outDir, false),
    plugins: [
      hlsLight,
      {
        name: 'manifest',
        setup(build) {
          build.onEnd((result) => {
            if (result.metafile && result.errors.length === 0) finish(outDir, result.metafile)
            opts.onRebuild?.(result.errors.length)
            first?.()
            first = undefined
          })
        },
      },
    ],
  })
  await ctx.watch()
  await firstBuild
  return { stop: () => ctx.dispose() }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t = Date.now()
  if (process.argv.includes('--watch')) {
    await watchWeb({
      onRebuild: (errors) => console.log(errors ? '✗ web bundle has errors' : '▸ web bundle rebuilt'),
    })
  } else {
    const manifest = await buildWeb()
    const sizes = Object.entries(manifest.files).map(([name, url]) => {
      const bytes = readFileSync(join(BUILD_DIR, url.replace(/^\//, ''))).length
      return `${name} ${(bytes / 1024).toFixed(0)} KiB`
    })
    console.log(
      `▸ web bundle built in ${Date.now() - t} ms → ${relative(root, BUILD_DIR)}/ (${sizes.join(', ')})`,
    )
  }
}
