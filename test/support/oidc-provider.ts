/**
 * @module test/support/oidc-provider — a real OpenID Connect provider (oidc-provider v9) in process
 * on 127.0.0.1, for the sign-in tests. Its login screen is replaced by `signInAs`: the next
 * authorization request logs in that account and consents, as a user clicking through would.
 * `authorize()` walks the browser's part (authorize → interaction → resume) with a cookie jar and
 * returns the query the provider sends back to our callback.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'

export type Account = { sub: string; email?: string; email_verified?: boolean; preferred_username?: string }

export type TestProvider = {
  issuer: string
  clientId: string
  clientSecret: string
  /** The account the next authorization logs in. */
  signInAs(account: Account): void
  /** Registers the client's redirect URIs (for a relying party whose address is known only later). */
  setRedirectUris(uris: string[]): void
  /** Follows the provider's redirects from `authorizationUrl` until it sends the browser to `redirectUri`. */
  authorize(authorizationUrl: string): Promise<URL>
  close(): Promise<void>
}

export async function startTestProvider(redirectUris: string[] = []): Promise<TestProvider> {
  const accounts = new Map<string, Account>()
  let next: Account | undefined
  const clientId = 'live-test'
  const clientSecret = 'live-test-secret-0123456789abcdef'
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test', alg: 'RS256', use: 'sig' }
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const build = (redirectUris: string[]) =>
    new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      async findAccount(_ctx, sub) {
        const a = accounts.get(sub)
        return a && { accountId: sub, claims: async () => ({ ...a }) }
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
      jwks: { keys: [jwk] },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      pkce: { required: () => true },
    })
  let provider = build(redirectUris)
  let handle = provider.callback()
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return handle(req, res)
    void (async () => {
      const details = await provider.interactionDetails(req, res)
      const account = next
      if (!account) throw new Error('signInAs() was not called before authorize()')
      accounts.set(account.sub, account)
      const grant = new provider.Grant({ accountId: account.sub, clientId: details.params.client_id! })
      grant.addOIDCScope(details.params.scope!)
      const grantId = await grant.save()
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.sub }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      )
    })().catch((err) => {
      res.statusCode = 500
      res.end(String(err))
    })
  })

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(account) {
      next = account
    },
    setRedirectUris(uris) {
      provider = build(uris)
      handle = provider.callback()
    },
    async authorize(authorizationUrl) {
      const jar = new Map<string, string>()
      let url = new URL(authorizationUrl)
      for (let hop = 0; hop < 10; hop++) {
        if (url.origin !== issuer) return url // back at the relying party
        const res = await fetch(url, {
          redirect: 'manual',
          headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
        })
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';')
          const eq = pair!.indexOf('=')
          jar.set(pair!.slice(0, eq), pair!.slice(eq + 1))
        }
        const location = res.headers.get('location')
        if (!location) throw new Error(`provider answered ${res.status}: ${await res.text()}`)
        url = new URL(location, url)
      }
      throw new Error('too many redirects at the provider')
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
