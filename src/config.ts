/** @module config — the process configuration, validated once at boot from the environment. */
import { readFileSync } from 'node:fs'
import { z } from 'zod'

const port = z.coerce.number().int().min(1).max(65535)
const seconds = z.coerce.number().int().min(0)
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
)

/** `id=url,id2=url2`: each ingest node's control endpoint (nginx `rtmp_control` / `rtmp_stat`). */
const ingestNodes = z.string().transform((s, ctx) => {
  const nodes: Record<string, string> = {}
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [id, url] = part.split('=', 2)
    if (!id || !url || !/^[a-z0-9-]{1,32}$/.test(id) || !URL.canParse(url)) {
      ctx.addIssue({ code: 'custom', message: `expected id=url pairs, got "${part}"` })
      return z.NEVER
    }
    nodes[id] = url.replace(/\/+$/, '')
  }
  return nodes
})

const limits = (
  maxSessionS: number,
  maxStreamKeys: number,
  maxApiTokens = 5,
  maxWebhooks = 10,
  recordingHours = 10,
  retentionDays = 7,
) =>
  z
    .object({
      maxSessionS: z.number().int().min(10).default(maxSessionS),
      maxStreamKeys: z.number().int().min(1).max(1000).default(maxStreamKeys),
      /** Active (unrevoked, unexpired) personal access tokens per user. */
      maxApiTokens: z.number().int().min(0).max(1000).default(maxApiTokens),
      maxWebhooks: z.number().int().min(0).max(1000).default(maxWebhooks),
      /** Hours of recorded video kept per channel; the oldest go first (videos/retention.ts). */
      recordingHours: z.number().min(0).max(100_000).default(recordingHours),
      /** Days a recorded video is kept; 0 keeps them until recordingHours pushes them out. */
      retentionDays: z.number().int().min(0).max(36_500).default(retentionDays),
    })
    .default({ maxSessionS, maxStreamKeys, maxApiTokens, maxWebhooks, recordingHours, retentionDays })

/** A loopback host: the only place a plain-http OIDC issuer is accepted (tests, a local Keycloak). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** One OpenID Connect provider of OIDC_PROVIDERS (oidc/). */
export const OidcProviderSchema = z.object({
  /** In the URLs (`/api/v1/auth/oidc/<id>/…`) and the identities table: keep it stable. */
  id: z.string().regex(/^[a-z0-9-]{1,32}$/, 'id must be 1–32 of a-z, 0-9, -'),
  name: z.string().min(1).max(40),
  issuer: z
    .string()
    .url()
    .refine((u) => {
      const url = new URL(u)
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
    }, 'issuer must be https (plain http only for a loopback issuer)'),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scopes: z
    .string()
    .default('openid email profile')
    .refine((s) => s.split(/\s+/).includes('openid'), 'scopes must include openid'),
})
export type OidcProvider = z.output<typeof OidcProviderSchema>

const oidcProviders = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' })
      return z.NEVER
    }
  })
  .pipe(
    z
      .array(OidcProviderSchema)
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'provider ids must be unique'),
  )

/** Tiers as SaaS products tier them; `users.plan` picks one. */
export const PlanLimitsSchema = z.object({
  free: limits(4 * 3600, 3, 5, 10, 10, 7),
  pro: limits(12 * 3600, 10, 5, 10, 100, 60),
  premium: limits(48 * 3600, 50, 5, 10, 1000, 365),
})
export type PlanLimits = z.output<typeof PlanLimitsSchema>

export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    APP_HOST: z.string().default('127.0.0.1'),
    APP_PORT: port.default(3000),
    HTTP_PORT: port.default(8080),
    RTMP_PORT: port.default(1935),
    /** nginx's RTMPS port (TLS in front of RTMP_PORT); with an https PUBLIC_URL, OBS is told to use it. */
    RTMPS_PORT: port.optional(),
    DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:54329/live'),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:63799'),
    /**
     * A Redis Cluster instead of REDIS_URL: `host:port,host:port` (any of its nodes; the rest are
     * discovered) or `redis://[:password@]host:port,…`. Needs Redis ≥ 7 (sharded pub/sub).
     */
    REDIS_CLUSTER_NODES: csv.optional(),
    /**
     * How many partitions channels are spread over (redis/keys.ts): each has its own hash slot,
     * events stream and indexes. Fixed for the life of a deployment's Redis data.
     */
    REDIS_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
    /** Redis key prefix: lets several deployments (or test files) share one Redis. */
    REDIS_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9:_-]*$/)
      .default(''),
    PUBLIC_URL: z.string().url().default('http://localhost:8080'),
    /** What OBS is told to use; defaults to PUBLIC_URL's host on RTMP_PORT (rtmps on RTMPS_PORT when both are TLS). */
    RTMP_PUBLIC_URL: z.string().url().optional(),
    SMTP_URL: z.string().url().optional(),
    MAIL_FROM: z.string().default('Live <no-reply@localhost>'),
    HOOK_SECRET: z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^[A-Za-z0-9_-]+$/, 'must be URL-safe'),
    /** Addresses or CIDR ranges allowed to call the RTMP hooks (each ingest nginx's hook proxy). */
    HOOK_ALLOWED_IPS: csv
      .pipe(
        z.array(
          z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
            message: 'must be IP addresses or CIDR ranges',
          }),
        ),
      )
      .default(['127.0.0.1', '::1']),
    INGEST_NODES: ingestNodes.default({}),
    JWT_PRIVATE_KEY: z.string().optional(),
    JWT_PRIVATE_KEY_FILE: z.string().optional(),
    /** Public keys (PEM, concatenated) still accepted after a key rotation. */
    JWT_PREVIOUS_PUBLIC_KEYS_FILE: z.string().optional(),
    ACCESS_TOKEN_TTL_S: seconds.min(60).max(900).default(600),
    /** A just-rotated refresh token may be presented again this long (lost response, two tabs); 0 = never. */
    REFRESH_REUSE_GRACE_S: seconds.max(300).default(10),
    ALLOWED_ORIGINS: csv.optional(),
    RECONNECT_WINDOW_S: seconds.max(600).default(30),
    /** Default life of a playback grant (`POST …/playback-tokens`); a client may ask for less or more, up to the max. */
    PLAYBACK_TOKEN_TTL_S: seconds.min(10).max(86_400).default(900),
    PLAYBACK_TOKEN_MAX_TTL_S: seconds.min(10).max(604_800).default(86_400),
    /** How long nginx may reuse a playback check (per token and channel): revocations apply within it. */
    PLAYBACK_AUTH_CACHE_S: seconds.min(1).max(60).default(5),
    /** nginx's notify_update_timeout; a live session with no on_update for 2× this is ingest_lost. */
    NOTIFY_UPDATE_S: seconds.min(1).default(30),
    /** After a kick, the kicked key is refused at on_publish for this long. */
    KICK_COOLDOWN_S: seconds.max(86_400).default(60),
    /** How often each ingest node's /stat is compared with the live registry (0 = never). */
    RECONCILE_INTERVAL_S: seconds.max(3600).default(3),
    /** A publisher whose bytes stop growing for this long is dropped and its session ends as idle. */
    IDLE_TIMEOUT_S: seconds.min(2).max(3600).default(10),
    /** Per-plan limits, JSON: {"free":{"maxSessionS":…,"maxStreamKeys":…},…}; missing fields keep defaults. */
    PLAN_LIMITS: z
      .string()
      .transform((s, ctx) => {
        try {
          return JSON.parse(s) as unknown
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON' })
          return z.NEVER
        }
      })
      .pipe(PlanLimitsSchema)
      .default(PlanLimitsSchema.parse({})),
    // Chat and viewer counts (chat/, presence/). Limits are per channel and user.
    /** Lifetime of a WebSocket ticket (single use). */
    CHAT_TICKET_TTL_S: seconds.min(1).max(30).default(30),
    /** Days chat messages are kept in Postgres; 0 keeps them forever. */
    CHAT_RETENTION_DAYS: seconds.max(3650).default(30),
    /** Recent messages per channel kept in the Redis stream that resume reads first. */
    CHAT_REDIS_HISTORY: z.coerce.number().int().min(50).max(100_000).default(1000),
    CHAT_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(20),
    CHAT_RATE_LIMIT_MOD: z.coerce.number().int().min(1).max(100_000).default(100),
    CHAT_RATE_WINDOW_S: seconds.min(1).max(3600).default(30),
    /** The same text from the same user within this window is refused (0 = off). */
    CHAT_DUPLICATE_WINDOW_S: seconds.max(3600).default(30),
    /** Frames above this close the socket with 4513; ws itself stops anything above 64 KiB. */
    CHAT_MAX_FRAME_BYTES: z.coerce.number().int().min(1024).max(65536).default(8192),
    /** Inbound frame budget per socket (token bucket): a sustained rate and a burst. */
    CHAT_FLOOD_FRAMES_PER_S: z.coerce.number().min(0.1).max(10_000).default(5),
    CHAT_FLOOD_BURST: z.coerce.number().int().min(1).max(100_000).default(20),
    /** A socket with more unsent bytes than this is closed as too slow (4008). */
    CHAT_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(4096)
      .default(1024 * 1024),
    CHAT_PING_INTERVAL_S: seconds.min(1).max(300).default(25),
    /** Viewer presence entries expire this long after their last refresh (refreshed every TTL/3). */
    PRESENCE_TTL_S: seconds.min(3).max(3600).default(45),
    /** How often viewer counts are checked and, when changed, pushed (at most once per interval). */
    VIEWERS_PUSH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    /** How often each instance writes the player QoE it summed to Postgres (analytics/qoe-aggregator.ts). */
    QOE_FLUSH_INTERVAL_S: seconds.min(1).max(60).default(10),
    /**
     * Proxies whose X-Forwarded-For is believed (IPs/CIDRs); the client is the right-most
     * untrusted hop (http/client-address.ts). Loopback by default: nginx on the same host.
     */
    TRUSTED_PROXIES: csv
      .pipe(
        z.array(
          z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
            message: 'must be IP addresses or CIDR ranges',
          }),
        ),
      )
      .default(['127.0.0.0/8', '::1']),
    /** The boolean TRUSTED_PROXIES replaced; refused so an old deployment does not silently change meaning. */
    TRUST_PROXY: z
      .undefined({ message: 'was replaced by TRUSTED_PROXIES (a list of proxy addresses/CIDRs)' })
      .optional(),
    /** Concurrent WebSockets per client address, counted across all instances (Redis). */
    WS_MAX_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(100),
    /** Concurrent WebSockets this instance accepts; beyond it the handshake gets 503. */
    WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
    /** Bearer token that lets a non-loopback scraper read GET /metrics (metrics/routes.ts); unset: loopback only. */
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Sign-in providers, JSON: [{"id","name","issuer","clientId","clientSecret","scopes"?}] (docs/auth.md). */
    OIDC_PROVIDERS: oidcProviders.default([]),
    // Webhooks (webhooks/, docs/webhooks.md).
    /** Lets webhook URLs reach loopback and private addresses: development and tests only. */
    WEBHOOK_ALLOW_PRIVATE: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .default('false')
      .transform((v) => v === 'true'),
    /** Encrypts webhook signing secrets at rest (≥ 32 characters); unset: derived from HOOK_SECRET. */
    WEBHOOK_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    /** First retry delay; each further retry doubles it (capped at 1 h) for up to 24 h. */
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
    /** Connect and total time allowed for one delivery attempt. */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    // Watch analytics (analytics/, docs/analytics.md).
    /** UDP port (on ANALYTICS_LOG_HOST) where nginx's edge sends one syslog line per HLS segment served; 0 = off. */
    ANALYTICS_LOG_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    ANALYTICS_LOG_HOST: z.string().default('127.0.0.1'),
    /** How often counts leave memory for Redis and Postgres: also the most a crash can lose. */
    ANALYTICS_FLUSH_S: seconds.min(1).max(30).default(10),
    /** A viewer counts as concurrent while a segment reached them within this many seconds. */
    ANALYTICS_ACTIVE_S: seconds.min(2).max(300).default(10),
    /** Days each granularity is kept; 0 keeps it forever (default: minutes 30 d, hours 13 months, days forever). */
    ANALYTICS_RETENTION_MINUTE_DAYS: seconds.max(36_500).default(30),
    ANALYTICS_RETENTION_HOUR_DAYS: seconds.max(36_500).default(396),
    ANALYTICS_RETENTION_DAY_DAYS: seconds.max(36_500).default(0),
    // Recordings, videos and live thumbnails (videos/, README "Recording").
    /**
     * Shared with nginx (scripts/lib/nginx.ts mediaDir): recordings/ (nginx writes flv),
     * videos/ (served at /vod/), thumbs/ (served at /thumbs/).
     */
    MEDIA_DIR: z.string().min(1).default('.run/nginx/media'),
    /** How often live thumbnails are refreshed (0 = never). */
    THUMBNAIL_INTERVAL_S: seconds.max(3600).default(30),
    /** A remux job whose worker stopped renewing its lock (crash) is taken over after this. */
    VIDEO_JOB_LOCK_S: seconds.min(2).max(3600).default(30),
    /** Attempts per remux job (exponential backoff from 5 s) before the video is marked failed. */
    VIDEO_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  })
  .transform((c, ctx) => {
    // Without SMTP the mailer prints mails, reset and confirmation links included, to the log:
    // fine on a laptop, a credential leak in production.
    if (c.NODE_ENV === 'production' && !c.SMTP_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['SMTP_URL'],
        message:
          'is required when NODE_ENV=production (otherwise account mails, with their links, would be written to the log)',
      })
      return z.NEVER
    }
    let jwtPrivateKeyPem = c.JWT_PRIVATE_KEY
    if (!jwtPrivateKeyPem && c.JWT_PRIVATE_KEY_FILE) {
      try {
        jwtPrivateKeyPem = readFileSync(c.JWT_PRIVATE_KEY_FILE, 'utf8')
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_PRIVATE_KEY_FILE'],
          message: `cannot read: ${(err as Error).message}`,
        })
        return z.NEVER
      }
    }
    if (!jwtPrivateKeyPem) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_PRIVATE_KEY_FILE'],
        message: 'set JWT_PRIVATE_KEY_FILE (or JWT_PRIVATE_KEY) to an Ed25519 PKCS#8 PEM key',
      })
      return z.NEVER
    }
    let jwtPreviousPublicKeysPem: string[] = []
    if (c.JWT_PREVIOUS_PUBLIC_KEYS_FILE) {
      try {
        const text = readFileSync(c.JWT_PREVIOUS_PUBLIC_KEYS_FILE, 'utf8')
        jwtPreviousPublicKeysPem =
          text.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_PREVIOUS_PUBLIC_KEYS_FILE'],
          message: `cannot read: ${(err as Error).message}`,
        })
        return z.NEVER
      }
    }
    const publicUrl = new URL(c.PUBLIC_URL)
    return {
      ...c,
      PUBLIC_URL: publicUrl.origin,
      RTMP_PUBLIC_URL: c.RTMP_PUBLIC_URL ?? defaultRtmpPublicUrl(publicUrl, c.RTMP_PORT, c.RTMPS_PORT),
      ALLOWED_ORIGINS: c.ALLOWED_ORIGINS ?? [publicUrl.origin],
      jwtPrivateKeyPem,
      jwtPreviousPublicKeysPem,
      secureCookies: publicUrl.protocol === 'https:',
    }
  })

export type Config = z.output<typeof ConfigSchema>

/** The OBS server on PUBLIC_URL's host. Broadcasters follow the site: an https site with RTMPS sends OBS over TLS too. */
export function defaultRtmpPublicUrl(publicUrl: URL, rtmpPort: number, rtmpsPort?: number): string {
  return publicUrl.protocol === 'https:' && rtmpsPort !== undefined
    ? `rtmps://${publicUrl.hostname}:${rtmpsPort}/live`
    : `rtmp://${publicUrl.hostname}:${rtmpPort}/live`
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // An empty variable means "unset" (compose's `${SMTP_URL:-}`, `FOO= npm run dev`).
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''))
  const result = ConfigSchema.safeParse(given)
  if (result.success) return result.data
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`)
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
}
