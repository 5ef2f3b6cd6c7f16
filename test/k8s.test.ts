/**
 * deploy/k8s cannot be applied here (no cluster), so this renders the production overlay the way
 * `kubectl apply -k` would (test/support/kustomize.ts), validates every object against the
 * Kubernetes OpenAPI schemas (kubernetes-models), and checks what a schema cannot: references
 * between objects, the app's environment as a real config, and agreement with docker-compose.yml
 * and the Dockerfile. The secrets are the committed `.example` templates, never real files.
 */
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Job } from 'kubernetes-models/batch/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ConfigSchema, loadConfig } from '../src/config.js'
import { containersOf, kustomizeBuild, type Manifest } from './support/kustomize.js'

const OVERLAY = 'deploy/k8s/overlays/production'
const readExample = (path: string) => readFileSync(`${path.split('/secrets/').join('/')}.example`, 'utf8')
const objects = kustomizeBuild(OVERLAY, readExample)
const get = (kind: string, name: string) => {
  const m = objects.find((o) => o.kind === kind && o.metadata.name === name)
  if (!m) throw new Error(`no ${kind}/${name}`)
  return m
}
const app = get('Deployment', 'app')
const ingest = get('StatefulSet', 'ingest')
const config = get('ConfigMap', 'live-app-config').data as Record<string, string>
const secret = (name: string) =>
  Object.fromEntries(
    Object.entries(get('Secret', name).data as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString(),
    ]),
  )
const container = (m: Manifest, name: string) => containersOf(m).find((c) => c.name === name)!
const podLabels = (m: Manifest) => m.spec.template.metadata.labels as Record<string, string>
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v)
const workloads = objects.filter((o) => o.spec?.template?.spec)

const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
}

/** The app's environment as Kubernetes would give it, with sample values for the placeholders. */
function appEnvironment(samples: Record<string, string>): Record<string, string> {
  const c = container(app, 'app')
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, get('ConfigMap', from.configMapRef.name).data)
    if (from.secretRef) Object.assign(env, secret(from.secretRef.name))
  }
  for (const e of c.env ?? []) env[e.name] = e.value
  for (const [k, v] of Object.entries(env)) if (v === 'REPLACE_ME') env[k] = samples[k] ?? v
  return env
}
const SAMPLES = {
  HOOK_SECRET: 'a-hook-secret-long-enough',
  DATABASE_URL: 'postgres://live:pw@db.example:5432/live',
  REDIS_URL: 'redis://:pw@redis.example:6379',
  SMTP_URL: 'smtp://relay.example:587',
  METRICS_TOKEN: 'a-metrics-token-long-enough',
  WEBHOOK_SECRET_KEY: 'a-webhook-secret-key-of-32-characters',
}

describe('deploy/k8s (production overlay)', () => {
  it('renders only objects that are valid against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(14)
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`]
      expect(Model, `${o.apiVersion}/${o.kind} has no validator here`).toBeDefined()
      expect(() => new Model!(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow()
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('live')
    }
    // The validator is real: a wrong type is refused.
    const broken = structuredClone(app)
    broken.spec.replicas = 'two'
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/)
  })

  it('gives the app two replicas, an autoscaler and a disruption budget on the same pods', () => {
    expect(app.spec.replicas).toBeGreaterThanOrEqual(2)
    const pdb = get('PodDisruptionBudget', 'app')
    expect(pdb.spec.minAvailable).toBe(1)
    expect(matches(pdb.spec.selector.matchLabels, podLabels(app))).toBe(true)
    expect(matches(app.spec.selector.matchLabels, podLabels(app))).toBe(true)
    const hpa = get('HorizontalPodAutoscaler', 'app')
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'app' })
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu')
    // Utilization is a share of the request: without one the autoscaler has nothing to compare.
    expect(container(app, 'app').resources.requests.cpu).toBeDefined()
  })

  it('probes the real health routes on APP_PORT and outlasts preStop plus the app drain', () => {
    const c = container(app, 'app')
    const port = c.ports.find((p: { name: string }) => p.name === c.readinessProbe.httpGet.port).containerPort
    expect(port).toBe(Number(config.APP_PORT))
    expect(c.readinessProbe.httpGet.path).toBe('/readyz')
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: c.readinessProbe.httpGet.port })
    const health = readFileSync('src/health/routes.ts', 'utf8')
    expect(health).toContain(".get('/readyz'")
    expect(health).toContain(".get('/healthz'")
    const drainMs = Number(
      /\}, ([\d_]+)\)\s*\n\s*force\.unref\(\)/
        .exec(readFileSync('src/main.ts', 'utf8'))![1]!
        .replace(/_/g, ''),
    )
    expect(drainMs).toBe(10_000)
    const [cmd, seconds] = c.lifecycle.preStop.exec.command
    expect(cmd).toBe('sleep')
    expect(app.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(seconds) + drainMs / 1000,
    )
  })

  it('runs every container non-root on a read-only root filesystem, with resources', () => {
    for (const w of workloads) {
      expect(w.spec.template.spec.securityContext.runAsNonRoot, w.metadata.name).toBe(true)
      // The app image's USER is a name; the kubelet can only verify a number.
      expect(w.spec.template.spec.securityContext.runAsUser).toBe(1000)
      for (const c of containersOf(w)) {
        expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true)
        expect(c.resources.requests.memory).toBeDefined()
        expect(c.resources.limits.memory).toBeDefined()
      }
    }
  })

  it('routes every Service to pods that exist, on ports those pods declare', () => {
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const targets = workloads.filter((w) => matches(svc.spec.selector, podLabels(w)))
      expect(targets.length, svc.metadata.name).toBe(1)
      const ports = containersOf(targets[0]!).flatMap((c) => c.ports ?? [])
      for (const p of svc.spec.ports)
        expect(
          ports.some((cp: { name: string; containerPort: number }) =>
            typeof p.targetPort === 'string' ? cp.name === p.targetPort : cp.containerPort === p.targetPort,
          ),
          `${svc.metadata.name}:${p.name}`,
        ).toBe(true)
    }
    expect(get('Service', 'app').spec.type).toBe('ClusterIP')
    expect(get('Service', 'ingest').spec.clusterIP).toBe('None')
    expect(ingest.spec.serviceName).toBe('ingest')
    const publicPorts = (name: string) => get('Service', name).spec.ports.map((p: { port: number }) => p.port)
    expect(get('Service', 'ingest-rtmp').spec.type).toBe('LoadBalancer')
    expect(publicPorts('ingest-rtmp')).toEqual([1935, Number(config.RTMPS_PORT)])
    expect(publicPorts('ingest-edge')).toEqual([443, 80])
  })

  it('references only ConfigMaps, Secrets and keys that exist', () => {
    const has = (kind: string, name: string, key?: string) => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === name)
      return !!o && (key === undefined || key in (o.data ?? {}))
    }
    let refs = 0
    for (const w of workloads) {
      for (const c of containersOf(w)) {
        for (const from of c.envFrom ?? []) {
          refs++
          if (from.configMapRef) expect(has('ConfigMap', from.configMapRef.name)).toBe(true)
          if (from.secretRef) expect(has('Secret', from.secretRef.name)).toBe(true)
        }
        for (const { valueFrom } of c.env ?? []) {
          if (valueFrom?.secretKeyRef) {
            refs++
            expect(
              has('Secret', valueFrom.secretKeyRef.name, valueFrom.secretKeyRef.key),
              valueFrom.secretKeyRef.key,
            ).toBe(true)
          }
          if (valueFrom?.configMapKeyRef) {
            refs++
            expect(has('ConfigMap', valueFrom.configMapKeyRef.name, valueFrom.configMapKeyRef.key)).toBe(true)
          }
        }
        const volumes = new Map<string, unknown>(
          w.spec.template.spec.volumes?.map((v: { name: string }) => [v.name, v]),
        )
        for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), m.name).toBe(true)
      }
      for (const v of w.spec.template.spec.volumes ?? [])
        if (v.secret) {
          refs++
          expect(has('Secret', v.secret.secretName)).toBe(true)
        }
    }
    expect(refs).toBeGreaterThanOrEqual(8)
    // The files the containers are told to read are keys of the mounted secrets.
    const mountedFile = (w: Manifest, path: string) => {
      const c = containersOf(w)[0]
      const mount = c.volumeMounts.find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`))
      const volume = w.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name)
      return has('Secret', volume.secret.secretName, path.slice(mount.mountPath.length + 1))
    }
    expect(mountedFile(app, config.JWT_PRIVATE_KEY_FILE!)).toBe(true)
    const ingestEnv = Object.fromEntries(
      container(ingest, 'ingest').env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    )
    expect(mountedFile(ingest, ingestEnv.TLS_CERT_FILE)).toBe(true)
    expect(mountedFile(ingest, ingestEnv.TLS_KEY_FILE)).toBe(true)
    expect(get('Secret', 'live-tls').type).toBe('kubernetes.io/tls')
  })

  it('gives the app an environment that loads as a valid config, naming only variables it reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-'))
    const env = appEnvironment(SAMPLES)
    const known = new Set(Object.keys((ConfigSchema as unknown as { in: { shape: object } }).in.shape))
    for (const name of Object.keys(env)) expect(known, name).toContain(name)
    const keyFile = join(dir, 'jwt.pem')
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const loaded = loadConfig({ ...env, JWT_PRIVATE_KEY_FILE: keyFile })
    expect(loaded.NODE_ENV).toBe('production')
    expect(loaded.secureCookies).toBe(true)
    expect(loaded.METRICS_TOKEN).toBe(SAMPLES.METRICS_TOKEN)
    expect(loaded.RTMP_PUBLIC_URL).toBe(`rtmps://live.example.com:${config.RTMPS_PORT}/live`)
    // Postgres and Redis are external: nothing in the cluster runs them.
    expect(objects.some((o) => containersOf(o).some((c) => /postgres|redis/.test(c.image)))).toBe(false)
  })

  it('keeps every secret a placeholder the app refuses to start with', () => {
    const env = appEnvironment({})
    for (const name of [
      'HOOK_SECRET',
      'DATABASE_URL',
      'REDIS_URL',
      'SMTP_URL',
      'METRICS_TOKEN',
      'WEBHOOK_SECRET_KEY',
    ]) {
      expect(secret('live-secrets')[name], name).toBe('REPLACE_ME')
      const one = { ...appEnvironment(SAMPLES), [name]: env[name], JWT_PRIVATE_KEY: 'x' }
      expect(() => loadConfig(one), name).toThrow(new RegExp(`${name}:`))
    }
    for (const name of ['live-jwt', 'live-tls'])
      for (const value of Object.values(secret(name))) expect(value).toMatch(/^TEMPLATE, not a/)
  })

  it('names each ingest pod as a node the app knows, on the headless Service and control port', () => {
    const c = container(ingest, 'ingest')
    const nodeId = c.env.find((e: { name: string }) => e.name === 'NODE_ID')
    expect(nodeId.valueFrom.fieldRef.fieldPath).toBe('metadata.name')
    const nodes = loadConfig({ ...appEnvironment(SAMPLES), JWT_PRIVATE_KEY: 'x' }).INGEST_NODES
    const pods = Array.from({ length: ingest.spec.replicas }, (_, i) => `ingest-${i}`)
    expect(Object.keys(nodes)).toEqual(pods)
    const control = c.ports.find((p: { name: string }) => p.name === 'control').containerPort
    for (const pod of pods) expect(nodes[pod]).toBe(`http://${pod}.${ingest.spec.serviceName}:${control}`)
  })

  it('configures the ingest with variables scripts/ingest.ts reads, on the ports it declares', () => {
    const c = container(ingest, 'ingest')
    const entry = readFileSync('scripts/ingest.ts', 'utf8')
    for (const { name } of c.env) expect(entry).toMatch(new RegExp(`['.]${name}\\b`))
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]))
    const ports = Object.fromEntries(
      c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
    )
    // scripts/ingest.ts defaults: RTMP 1935, HTTP 8080, control 8081.
    expect(ports).toEqual({
      rtmp: 1935,
      http: 8080,
      control: 8081,
      https: Number(env.HTTPS_PORT),
      rtmps: Number(config.RTMPS_PORT),
    })
    expect(env.APP_UPSTREAMS).toBe(`app:${get('Service', 'app').spec.ports[0].port}`)
    // Watch analytics: the edge's HLS log reaches the app pods' UDP listener through its Service.
    const analytics = get('Service', 'app-analytics')
    expect(env.ANALYTICS_LOG).toBe(`app-analytics:${analytics.spec.ports[0].port}`)
    expect(analytics.spec.ports[0].protocol).toBe('UDP')
    expect(analytics.spec.selector).toEqual(get('Service', 'app').spec.selector)
    const appPorts = container(get('Deployment', 'app'), 'app').ports
    const udp = appPorts.find((p: { name: string }) => p.name === analytics.spec.ports[0].targetPort)
    expect(udp).toMatchObject({ protocol: 'UDP', containerPort: Number(config.ANALYTICS_LOG_PORT) })
    expect(config.ANALYTICS_LOG_HOST).toBe('0.0.0.0')
    expect(entry).toContain('env.ANALYTICS_LOG')
    // Both nginx processes of a node share the HLS directory (RUN_DIR/hls, RUN_DIR default).
    const mounts = Object.fromEntries(
      c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]),
    )
    expect(entry).toContain("env.RUN_DIR ?? '/var/lib/live-ingest'")
    expect(mounts.run).toBe('/var/lib/live-ingest')
    expect(mounts.hls).toBe('/var/lib/live-ingest/hls')
  })

  it('runs the migration as docker-compose.yml does', () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true })
    expect(container(get('Job', 'migrate'), 'migrate').command).toEqual(compose.services.migrate.command)
  })
})

describe('deploy/k8s in step with docker-compose.yml and the Dockerfile', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { image?: string; build?: { target: string }; environment?: Record<string, string>; ports?: string[] }
    >
  }
  const base = kustomizeBuild('deploy/k8s/base', readExample)

  it('sets the same app variables and runs the same images', () => {
    const composeApp = compose.services['app-1']!
    expect(Object.keys(appEnvironment(SAMPLES)).sort()).toEqual(
      [...Object.keys(composeApp.environment ?? {})].sort(),
    )
    const images = new Set(base.flatMap((o) => containersOf(o).map((c) => c.image)))
    const composeImages = new Set(
      Object.values(compose.services)
        .filter((s) => s.build)
        .map((s) => s.image),
    )
    expect(images).toEqual(composeImages)
    // The overlay only re-tags them.
    for (const o of objects)
      for (const c of containersOf(o)) expect(c.image).toMatch(/\/live-(app|ingest):[\w.-]+$/)
  })

  it('exposes in the Dockerfile what compose publishes and k8s declares', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8')
    const exposed = (stage: string) =>
      new Set(
        /^EXPOSE (.+)$/m
          .exec(dockerfile.slice(dockerfile.indexOf(`AS ${stage}\n`)))![1]!
          .split(' ')
          .map(Number),
      )
    expect(exposed('app')).toEqual(new Set([Number(config.APP_PORT)]))
    const ingestPorts = container(ingest, 'ingest').ports.map(
      (p: { containerPort: number }) => p.containerPort,
    )
    // The control port is private (pod network) and deliberately not EXPOSEd for publishing.
    expect(new Set(ingestPorts.filter((p: number) => p !== 8081))).toEqual(exposed('ingest'))
    const composePorts = compose.services.ingest!.ports!.map((p) => Number(p.split(' ')[0]!.split(':')[1]))
    expect(new Set(composePorts)).toEqual(exposed('ingest'))
  })

  it('copies into the images only paths that exist or an earlier stage built', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8')
    const stages: string[] = []
    let copies = 0
    for (const line of dockerfile.split('\n')) {
      const from = /^FROM \S+ AS (\S+)/.exec(line)
      if (from) stages.push(from[1]!)
      const copy = /^COPY (--from=(\S+) )?(.+) \S+$/.exec(line)
      if (!copy) continue
      copies++
      const sources = copy[3]!.split(' ')
      if (copy[2]) {
        expect(stages.slice(0, -1), line).toContain(copy[2])
        // Built paths: /app/node_modules, /app/dist, /app/public/build come from npm ci + npm run build.
        for (const s of sources)
          expect(
            ['/app/node_modules', '/app/dist', '/app/public/build'].some((p) => s.startsWith(p)),
            s,
          ).toBe(true)
      } else for (const s of sources) expect(existsSync(s), line).toBe(true)
    }
    expect(copies).toBeGreaterThanOrEqual(10)
    // What the build stage produces: tsc's outDir and build-web's output.
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8'))
    expect(build.extends).toBe('./tsconfig.json')
    expect(readFileSync('tsconfig.json', 'utf8')).toMatch(/"outDir": "dist"/)
    // Everything tsc compiles in the build stage was copied into it first.
    const buildStage = dockerfile.slice(dockerfile.indexOf('AS build'), dockerfile.indexOf('AS app'))
    for (const path of build.include as string[])
      expect(buildStage).toMatch(new RegExp(`^COPY ${path}\\b`, 'm'))
    expect(readFileSync('scripts/build-web.ts', 'utf8')).toContain('public/build')
  })
})
