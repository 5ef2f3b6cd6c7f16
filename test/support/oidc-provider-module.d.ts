/** The slice of oidc-provider (v9, untyped JS) that test/support/oidc-provider.ts uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  type Claims = Record<string, unknown> & { sub: string }
  export interface Configuration {
    clients: Record<string, unknown>[]
    findAccount: (
      ctx: unknown,
      sub: string,
    ) => Promise<{ accountId: string; claims: () => Promise<Claims> } | undefined>
    claims?: Record<string, string[]>
    jwks?: { keys: Record<string, unknown>[] }
    cookies?: { keys: string[] }
    features?: Record<string, unknown>
    interactions?: { url: (ctx: unknown, interaction: { uid: string }) => string }
    pkce?: { required: () => boolean }
  }
  export default class Provider {
    constructor(issuer: string, configuration: Configuration)
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    interactionDetails(
      req: IncomingMessage,
      res: ServerResponse,
    ): Promise<{ uid: string; params: Record<string, string> }>
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>
    Grant: new (opts: {
      accountId: string
      clientId: string
    }) => {
      addOIDCScope(scope: string): void
      save(): Promise<string>
    }
    on(event: string, fn: (...args: unknown[]) => void): void
  }
}
