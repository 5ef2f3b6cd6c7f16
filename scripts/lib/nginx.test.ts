/** Unit tests for renderNginxConfig: what it renders and every value it refuses to render. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  defaultEdgeWorkers,
  edgeCapacity,
  expandSections,
  NGINX_ROLES,
  type NginxOptions,
  type NginxRole,
  renderNginxConfig,
} from './nginx.js'

const base: NginxOptions = {
  runDir: '/tmp/run/nginx',
  nodeId: 'ingest-1',
  hookSecret: 'hook-secret_0123456789abcdef',
  rtmpPort: 1935,
  internalRtmpPort: 19350,
  httpPort: 8080,
  controlPort: 8081,
  appUpstreams: ['127.0.0.1:3000', 'app-2.internal:3000', '[::1]:3001'],
}
const render = (patch: Partial<NginxOptions>, role: NginxRole) =>
  renderNginxConfig({ ...base, ...patch }, role)
const ingest = (patch: Partial<NginxOptions> = {}) => render(patch, 'ingest')
const edge = (patch: Partial<NginxOptions> = {}) => render(patch, 'edge')
const listens = (conf: string) => [...conf.matchAll(/^\s*listen ([^\s;]+)/gm)].map((m) => m[1]!)

afterEach(() => {
  vi.restoreAllMocks()
})

describe('renderNginxConfig', () => {
  it('fills every placeholder', () => {
    const conf = ingest()
    expect(conf).not.toMatch(/\{\{|\}\}/)
    expect(edge()).not.toMatch(/\{\{|\}\}/)
    expect(conf).toContain('load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;')
    expect(conf).toContain('listen 127.0.0.1:1935;')
    expect(conf).toContain('listen 127.0.0.1:19350;')
    expect(edge()).toContain('listen 127.0.0.1:8080 backlog=4096 reuseport;')
    expect(conf).toContain('listen 127.0.0.1:8081;')
    expect(conf).toContain('hls_path /tmp/run/nginx/hls;')
    expect(edge()).toContain('alias /tmp/run/nginx/hls/;')
    expect(conf).toContain('error_log /tmp/run/nginx/logs/ingest-error.log warn;')
    expect(edge()).toContain('error_log /tmp/run/nginx/logs/edge-error.log warn;')
    expect(conf).toContain('notify_update_timeout 30s;')
    expect(conf).toContain('drop_idle_publisher 30s;')
    for (const hook of ['publish', 'update', 'publish-done']) {
      expect(conf).toContain(
        `http://127.0.0.1:8081/hooks/rtmp/${hook}?node=ingest-1&secret=hook-secret_0123456789abcdef;`,
      )
    }
  })

  it('renders one server line per upstream in each upstream block', () => {
    for (const [upstream, conf] of [
      ['app', edge()],
      ['app_hooks', ingest()],
    ] as const) {
      const block = conf.slice(conf.indexOf(`upstream ${upstream} {`)).split('}')[0] ?? ''
      expect(block.match(/^\s*server .*$/gm)?.map((l) => l.trim())).toEqual([
        'server 127.0.0.1:3000 max_fails=0;',
        'server app-2.internal:3000 max_fails=0;',
        'server [::1]:3001 max_fails=0;',
      ])
    }
  })

  it('renders binds, IPv6 in brackets, and the timing options', () => {
    const patch = { rtmpBind: '0.0.0.0', httpBind: '::', notifyUpdateTimeoutS: 2, dropIdlePublisherS: 5 }
    const conf = ingest(patch)
    expect(conf).toContain('listen 0.0.0.0:1935;')
    expect(edge(patch)).toContain('listen [::]:8080 backlog=4096 reuseport;')
    // Internal listeners never follow the public binds.
    expect(conf).toContain('listen 127.0.0.1:19350;')
    expect(conf).toContain('listen 127.0.0.1:8081;')
    expect(conf).toContain('notify_update_timeout 2s;')
    expect(conf).toContain('drop_idle_publisher 5s;')
  })

  it('binds the control server privately and allows only the named networks', () => {
    const local = ingest()
    expect(local).toMatch(/listen 127\.0\.0\.1:8081;\s+access_log off;\s+allow 127\.0\.0\.1;\s+deny all;/)
    const container = ingest({ controlBind: '0.0.0.0', controlAllow: ['172.28.0.0/16', 'fd00::/8'] })
    expect(container).toContain('listen 0.0.0.0:8081;')
    expect(container).toMatch(/allow 127\.0\.0\.1;\s+allow 172\.28\.0\.0\/16;\s+allow fd00::\/8;\s+deny all;/)
  })

  it.each(NGINX_ROLES)('runs %s workers as root only when the renderer is root', (role) => {
    vi.spyOn(process, 'geteuid').mockReturnValue(0)
    expect(renderNginxConfig(base, role)).toMatch(/^user root;$/m)
    vi.spyOn(process, 'geteuid').mockReturnValue(1000)
    expect(renderNginxConfig(base, role)).not.toMatch(/^\s*user\b/m)
  })

  it.each<[string, Partial<NginxOptions>]>([
    ['nodeId', { nodeId: 'Ingest-1' }],
    ['nodeId', { nodeId: '' }],
    ['nodeId', { nodeId: 'a'.repeat(33) }],
    ['nodeId', { nodeId: 'n1;deny all' }],
    ['nodeId', { nodeId: 'n1&secret=x' }],
    ['hookSecret', { hookSecret: 'short' }],
    ['hookSecret', { hookSecret: 'sixteen-chars-ok;deny all' }],
    ['hookSecret', { hookSecret: 'sixteen-chars-ok&node=other' }],
    ['hookSecret', { hookSecret: 'sixteen chars ok yes' }],
    ['hookSecret', { hookSecret: 'sixteen-chars-$ok' }],
    ['hookSecret', { hookSecret: 'sixteen-chars-ok}\nhttp{' }],
    ['rtmpPort', { rtmpPort: 0 }],
    ['httpPort', { httpPort: 65536 }],
    ['controlPort', { controlPort: 80.5 }],
    ['ports', { controlPort: 8080 }],
    ['rtmpBind', { rtmpBind: 'localhost' }],
    ['httpBind', { httpBind: '127.0.0.1:80; listen 0.0.0.0' }],
    ['appUpstreams', { appUpstreams: [] }],
    ['appUpstreams', { appUpstreams: ['127.0.0.1'] }],
    ['appUpstreams', { appUpstreams: ['127.0.0.1:3000; server evil:80'] }],
    ['appUpstreams', { appUpstreams: ['127.0.0.1:70000'] }],
    ['appUpstreams', { appUpstreams: ['[::1:3000'] }],
    ['runDir', { runDir: '/tmp/run dir' }],
    ['runDir', { runDir: '/tmp/run;root' }],
    ['runDir', { runDir: '/tmp/$uri' }],
    ['notifyUpdateTimeoutS', { notifyUpdateTimeoutS: 0 }],
    ['dropIdlePublisherS', { dropIdlePublisherS: 1.5 }],
    ['controlBind', { controlBind: 'ingest' }],
    ['controlAllow', { controlAllow: ['all'] }],
    ['controlAllow', { controlAllow: ['10.0.0.0/33'] }],
    ['controlAllow', { controlAllow: ['10.0.0.0/8; allow all'] }],
    ['trustedProxies', { trustedProxies: ['lb.internal'] }],
    ['trustedProxies', { trustedProxies: ['10.0.0.1; real_ip_header X-Real-IP'] }],
    ['workerConnections', { workerConnections: 100 }],
    ['workerConnections', { workerConnections: 2.5 }],
    ['edgeWorkers', { edgeWorkers: 0 }],
    ['edgeWorkers', { edgeWorkers: 1.5 }],
    ['limits.requestsPerS', { limits: { requestsPerS: 0 } }],
    ['limits.websocketsPerAddr', { limits: { websocketsPerAddr: -1 } }],
  ])('refuses a bad %s: %j', (field, patch) => {
    // Whichever config is rendered first must refuse it.
    for (const role of NGINX_ROLES)
      expect(() => render(patch, role)).toThrow(new RegExp(`^nginx config: ${field} `))
  })

  it('sizes each edge worker for an audience, and runs as many as asked (default: per CPU, ≥ 2)', () => {
    const conf = edge({ workerConnections: 1000, edgeWorkers: 3 })
    expect(conf).toMatch(/^worker_processes 3;$/m)
    expect(conf).toMatch(/^\s*worker_connections 1000;$/m)
    expect(conf).toMatch(/^worker_rlimit_nofile 2024;$/m)
    expect(conf).toMatch(/^\s*multi_accept on;$/m)
    expect(defaultEdgeWorkers()).toBeGreaterThanOrEqual(2)
    expect(edge()).toMatch(new RegExp(`^worker_processes ${defaultEdgeWorkers()};$`, 'm'))
  })

  it('keeps the ingest on one worker, sized for publishers and hooks, whatever the edge is given', () => {
    const conf = ingest({ workerConnections: 1000, edgeWorkers: 3 })
    expect(conf.match(/^\s*worker_processes .*$/gm)).toEqual(['worker_processes 1;'])
    expect(conf).toMatch(/^\s*worker_connections 4096;$/m)
    expect(conf).toMatch(/^worker_rlimit_nofile 5120;$/m)
  })

  it('scales connections down to the hard descriptor limit when it cannot raise it', () => {
    expect(edgeCapacity(32_768, false, 20_000)).toEqual({ workerConnections: 18_976, rlimitNofile: 20_000 })
    expect(edgeCapacity(32_768, true, 20_000)).toEqual({ workerConnections: 32_768, rlimitNofile: 33_792 })
    expect(edgeCapacity(1000, false, 1_048_576)).toEqual({ workerConnections: 1000, rlimitNofile: 2024 })
  })

  it('believes X-Forwarded-For only from the listed proxies, and only in the public server', () => {
    const plain = edge()
    expect(plain).not.toContain('set_real_ip_from')
    expect(plain).toMatch(/proxy_set_header X-Forwarded-For \$edge_forwarded_for;/)
    expect(ingest({ trustedProxies: ['10.0.0.0/8'] })).not.toMatch(/real_ip|10\.0\.0\.0|forwarded/i)
    const behindLb = edge({ trustedProxies: ['10.0.0.0/8', '2001:db8::1'] })
    const publicServer = behindLb.slice(behindLb.indexOf('# Public origin'))
    expect(publicServer).toMatch(
      /set_real_ip_from 10\.0\.0\.0\/8;\s+set_real_ip_from 2001:db8::1;\s+real_ip_header X-Forwarded-For;\s+real_ip_recursive on;/,
    )
    expect(behindLb.indexOf('set_real_ip_from')).toBeGreaterThan(behindLb.indexOf('# Public origin'))
    expect(behindLb).toMatch(
      /geo \$realip_remote_addr \$edge_peer_trusted \{\s+default 0;\s+10\.0\.0\.0\/8 1;\s+2001:db8::1 1;\s+\}/,
    )
  })

  it('renders the per-address limits, with tighter ones on /api/v1/auth/ and a /ws/ connection cap', () => {
    const conf = edge({
      limits: {
        requestsPerS: 7,
        requestBurst: 8,
        authPerMin: 9,
        authBurst: 10,
        connectionsPerAddr: 11,
        websocketsPerAddr: 12,
      },
    })
    expect(conf).toContain('zone=edge_req:10m rate=7r/s;')
    expect(conf).toContain('zone=edge_auth:10m rate=9r/m;')
    expect(conf).toContain('limit_conn edge_conn 11;')
    expect(conf).toMatch(/location \/ws\/ \{[^}]*limit_conn edge_ws 12;/)
    expect(conf).toMatch(
      /location \/api\/v1\/auth\/ \{\s+limit_req zone=edge_auth burst=10 nodelay;\s+limit_req zone=edge_req burst=8 nodelay;/,
    )
  })

  it('splits the node: RTMP and the control server in the ingest, the public origin in the edge', () => {
    // Directives only: comments may mention the other process.
    const [i, e] = [ingest(), edge()].map((c) => c.replace(/#.*$/gm, '')) as [string, string]
    expect(i.match(/^load_module .*$/gm)).toEqual(['load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;'])
    expect(e).not.toMatch(/load_module|ngx_rtmp|^rtmp \{|rtmp_stat|rtmp_control|hls_path/m)
    expect(i).toMatch(/^rtmp \{/m)
    // The public server and everything only it needs live in the edge alone.
    expect(i).not.toMatch(/:8080|location \/ws\/|limit_conn|limit_req|upstream app \{|edge-access\.log/)
    expect(e).toMatch(/location \/ws\//)
    // The control server (hooks, /stat, /control) lives in the ingest alone, and the edge never
    // sees the hook secret.
    expect(e).not.toMatch(/:8081|app_hooks|\/hooks\/rtmp\/|hook-fallback/)
    expect(e).not.toContain(base.hookSecret)
    expect(i.match(/^\s*server \{/gm)).toHaveLength(3) // rtmp ingest, hls packager, control
    expect(e.match(/^\s*server \{/gm)).toHaveLength(1) // public
  })

  it('gives each process its own pid file, logs and temp dirs, and both the same HLS directory', () => {
    const [i, e] = [ingest(), edge()]
    const one = (conf: string, re: RegExp) => conf.match(re)?.[1]
    expect(one(i, /^pid (\S+);$/m)).toBe('/tmp/run/nginx/ingest.pid')
    expect(one(e, /^pid (\S+);$/m)).toBe('/tmp/run/nginx/edge.pid')
    expect(one(i, /proxy_temp_path (\S+);/)).toBe('/tmp/run/nginx/tmp/ingest/proxy')
    expect(one(e, /proxy_temp_path (\S+);/)).toBe('/tmp/run/nginx/tmp/edge/proxy')
    const logs = (conf: string) => [...conf.matchAll(/_log (\/\S+)/g)].map((m) => m[1]!)
    expect(new Set(logs(i))).toEqual(
      new Set(['/tmp/run/nginx/logs/ingest-error.log', '/tmp/run/nginx/logs/hook-fallback.log']),
    )
    expect(new Set(logs(e))).toEqual(
      new Set(['/tmp/run/nginx/logs/edge-error.log', '/tmp/run/nginx/logs/edge-access.log']),
    )
    expect(`${one(i, /hls_path (\S+);/)}/`).toBe(one(e, /alias (\S+);/))
  })

  it.each<[string, Partial<NginxOptions>]>([
    ['plain', {}],
    [
      'TLS',
      { httpsPort: 8443, rtmpsPort: 1936, tlsCertFile: '/etc/tls/c.pem', tlsKeyFile: '/etc/tls/k.pem' },
    ],
  ])('listens on disjoint ports in the two processes (%s)', (_, patch) => {
    const port = (l: string) => l.split(':').at(-1)
    const [i, e] = [listens(ingest(patch)).map(port), listens(edge(patch)).map(port)]
    expect(i.sort()).toEqual(['1935', '19350', '8081'])
    expect(e.sort()).toEqual(patch.httpsPort ? ['1936', '8080', '8443'] : ['8080'])
  })

  it('never echoes a rejected hook secret', () => {
    expect(() => ingest({ hookSecret: 'leaky-secret-value;' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('leaky') }),
    )
  })
})

describe('renderNginxConfig with TLS', () => {
  const tls = { tlsCertFile: '/etc/live/tls/fullchain.pem', tlsKeyFile: '/etc/live/tls/privkey.pem' }
  /** The text of the top-level or http-level block that starts with `head`. */
  const block = (conf: string, head: RegExp): string => {
    const start = conf.search(head)
    if (start < 0) return ''
    let depth = 0
    for (let i = conf.indexOf('{', start); i < conf.length; i++) {
      if (conf[i] === '{') depth++
      if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1)
    }
    return conf.slice(start)
  }
  const publicBody = (server: string) => server.slice(server.indexOf('client_max_body_size'))

  it('renders no TLS, no HTTPS server and no stream block without the ports', () => {
    for (const conf of [ingest(), edge()]) expect(conf).not.toMatch(/ssl|^stream \{|ngx_stream_module/m)
  })

  it('keeps TLS out of the ingest: HTTPS and RTMPS are public listeners of the edge', () => {
    expect(ingest({ ...tls, httpsPort: 8443, rtmpsPort: 1936 })).not.toMatch(
      /ssl|^stream \{|ngx_stream_module|8443|1936/m,
    )
  })

  it('serves the same public site over HTTPS (http2, TLS 1.2+1.3) with httpsPort, and nothing for RTMPS', () => {
    const conf = edge({ ...tls, httpsPort: 8443, httpBind: '0.0.0.0' })
    expect(conf).not.toMatch(/^stream \{|ngx_stream_module/m)
    const plain = block(conf, /server \{\s+listen 0\.0\.0\.0:8080 backlog=\d+ reuseport;/)
    const https = block(conf, /server \{\s+listen 0\.0\.0\.0:8443 ssl http2 backlog=\d+ reuseport;/)
    expect(https).toContain('ssl_certificate /etc/live/tls/fullchain.pem;')
    expect(https).toContain('ssl_certificate_key /etc/live/tls/privkey.pem;')
    expect(https).toContain('ssl_protocols TLSv1.2 TLSv1.3;')
    expect(https).toContain('ssl_session_cache shared:https_tls:10m;')
    // Every directive and location of the plain server, byte for byte, X-Forwarded-Proto included.
    expect(publicBody(plain)).toContain('proxy_set_header X-Forwarded-Proto $scheme;')
    expect(publicBody(plain)).toContain('location /ws/ {')
    expect(publicBody(https)).toBe(publicBody(plain))
    expect(plain).not.toContain('ssl')
  })

  it('adds the stream module and one stream{} block relaying RTMPS to the RTMP port with rtmpsPort', () => {
    const conf = edge({ ...tls, rtmpsPort: 1936, rtmpBind: '0.0.0.0' })
    expect(conf).not.toMatch(/ssl http2/)
    expect(conf).toMatch(/^load_module \/usr\/lib\/nginx\/modules\/ngx_stream_module\.so;$/m)
    expect(conf.match(/^stream \{/gm)).toHaveLength(1)
    const stream = block(conf, /^stream \{/m)
    expect(stream).toContain('listen 0.0.0.0:1936 ssl;')
    expect(stream).toContain('ssl_certificate /etc/live/tls/fullchain.pem;')
    expect(stream).toContain('ssl_protocols TLSv1.2 TLSv1.3;')
    expect(stream).toContain('ssl_session_cache shared:rtmps_tls:10m;')
    // A wildcard ingest bind is reached over loopback; never the internal hls port.
    expect(stream).toContain('proxy_pass 127.0.0.1:1935;')
    expect(stream).not.toContain('19350')
    // The ingest itself keeps its plain listener.
    expect(ingest({ ...tls, rtmpsPort: 1936, rtmpBind: '0.0.0.0' })).toContain('listen 0.0.0.0:1935;')
  })

  it('relays RTMPS to the ingest bind address itself when it is not a wildcard', () => {
    expect(edge({ ...tls, rtmpsPort: 1936, rtmpBind: '10.1.2.3' })).toContain('proxy_pass 10.1.2.3:1935;')
    expect(edge({ ...tls, rtmpsPort: 1936, rtmpBind: '::' })).toContain('proxy_pass [::1]:1935;')
  })

  it('renders both together with one copy of the TLS settings per server', () => {
    const conf = edge({ ...tls, httpsPort: 8443, rtmpsPort: 1936 })
    expect(conf.match(/ssl_protocols/g)).toHaveLength(2)
    expect(conf.match(/^stream \{/gm)).toHaveLength(1)
    expect(conf.match(/^\s*listen .*ssl.*$/gm)).toEqual([
      '        listen 127.0.0.1:8443 ssl http2 backlog=4096 reuseport;',
      '        listen 127.0.0.1:1936 ssl;',
    ])
  })

  it.each<[string, Partial<NginxOptions>]>([
    ['tlsCertFile', { httpsPort: 8443, tlsKeyFile: tls.tlsKeyFile }],
    ['tlsKeyFile', { rtmpsPort: 1936, tlsCertFile: tls.tlsCertFile }],
    ['tlsCertFile', { ...tls, httpsPort: 8443, tlsCertFile: '/etc/tls/cert.pem; ssl_verify_client off' }],
    ['tlsKeyFile', { ...tls, rtmpsPort: 1936, tlsKeyFile: '/etc/tls/$key.pem' }],
    ['httpsPort', { ...tls, httpsPort: 0 }],
    ['rtmpsPort', { ...tls, rtmpsPort: 70_000 }],
    ['ports', { ...tls, httpsPort: 8080 }],
    ['ports', { ...tls, rtmpsPort: 19350 }],
    ['ports', { ...tls, httpsPort: 1936, rtmpsPort: 1936 }],
  ])('refuses a bad %s: %j', (field, patch) => {
    for (const role of NGINX_ROLES)
      expect(() => render(patch, role)).toThrow(new RegExp(`^nginx config: ${field} `))
  })
})

describe('expandSections', () => {
  const template = [
    'a',
    '{{#on}}',
    'kept',
    '{{/on}}',
    '{{#off}}',
    'copied',
    '{{/off}}',
    '{{>off}}',
    'z',
    '',
  ].join('\n')

  it('keeps sections that are on, drops the others, and inserts copies where asked', () => {
    expect(expandSections(template, { on: true, off: false })).toBe('a\nkept\ncopied\nz\n')
  })

  it('resolves a section inside another, and drops it with a dropped one', () => {
    const nested = ['{{#outer}}', 'o', '{{#inner}}', 'i', '{{/inner}}', '{{/outer}}', '{{>inner}}', ''].join(
      '\n',
    )
    expect(expandSections(nested, { outer: true, inner: false })).toBe('o\ni\n')
    expect(expandSections(nested, { outer: true, inner: true })).toBe('o\ni\ni\n')
    expect(() => expandSections(nested, { outer: false, inner: true })).toThrow(/\{\{>inner\}\}/)
  })

  it.each([
    ['an unknown section', template, { on: true }],
    ['an unclosed section', 'a\n{{#on}}\nb\n', { on: true }],
    ['a copy of a section that does not exist', 'a\n{{>on}}\n', { on: true }],
  ])('refuses %s', (_, text, on) => {
    expect(() => expandSections(text, on)).toThrow(/^nginx config: /)
  })
})
