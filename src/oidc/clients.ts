/**
 * @module oidc/clients — one openid-client Configuration per OIDC_PROVIDERS entry, found by issuer
 * discovery on first use (not at boot: a provider that is down must not stop the app starting)
 * and kept; a failed discovery is retried by the next sign-in.
 */
import * as client from 'openid-client'
import { isLoopbackHost, type OidcProvider } from '../config.js'
import { AppError, NotFoundError } from '../http/errors.js'

export type OidcClients = {
  provider(id: string): OidcProvider
  configuration(id: string): Promise<client.Configuration>
}

export function createOidcClients(providers: readonly OidcProvider[]): OidcClients {
  const byId = new Map(providers.map((p) => [p.id, p]))
  const cache = new Map<string, Promise<client.Configuration>>()
  const provider = (id: string) => {
    const p = byId.get(id)
    if (!p) throw new NotFoundError('sign-in provider')
    return p
  }
  return {
    provider,
    configuration(id) {
      const p = provider(id)
      let found = cache.get(id)
      if (!found) {
        const issuer = new URL(p.issuer)
        // openid-client refuses http; config.ts already allows it for loopback issuers only
        // (tests, a Keycloak on the developer's machine) and this repeats that rule here.
        const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname)
        found = client.discovery(
          issuer,
          p.clientId,
          p.clientSecret,
          undefined,
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        found.catch(() => cache.delete(id))
        cache.set(id, found)
      }
      return found.catch((err) => {
        throw new AppError('UNAVAILABLE', `${p.name} cannot be reached right now`, { cause: err })
      })
    },
  }
}
