/** @module web/client/api — JSON calls to /api/v1 with the session's Bearer token; problem+json → ApiError. */
import { getSession } from './session.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field → message, from a VALIDATION or CONFLICT problem. */
    readonly fields: Record<string, string> = {},
    readonly retryAfterS?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

type Problem = {
  code?: string
  detail?: string
  title?: string
  errors?: { field: string; message: string }[]
}

async function toError(res: Response): Promise<ApiError> {
  let p: Problem = {}
  try {
    p = (await res.json()) as Problem
  } catch {
    // not JSON (a proxy error page): fall through with the status alone
  }
  const fields: Record<string, string> = {}
  for (const e of p.errors ?? []) fields[e.field] ??= e.message
  const retry = Number(res.headers.get('retry-after'))
  const message =
    p.detail ??
    p.title ??
    (res.status >= 500 ? 'The server is having trouble; try again.' : `Request failed (${res.status})`)
  return new ApiError(
    res.status,
    p.code ?? `HTTP_${res.status}`,
    message,
    fields,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  )
}

export type ApiOptions = { method?: string; body?: unknown; auth?: boolean }

/** Calls the API; with `auth` (default) sends the access token and retries once after a refresh on 401. */
export async function api<T = unknown>(path: string, opts: ApiOptions = {}): Promise<T> {
  const { method = 'GET', body, auth = true } = opts
  const send = async (token: string | null) => {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (token) headers.authorization = `Bearer ${token}`
    return fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }
  const session = auth ? await getSession() : null
  let res: Response
  try {
    res = await send(session?.token ?? null)
    if (res.status === 401 && session) {
      const renewed = await getSession(true)
      if (renewed) res = await send(renewed.token)
    }
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach the server. Check your connection and try again.')
  }
  if (!res.ok) throw await toError(res)
  if (res.status === 204 || res.status === 202) return undefined as T
  return (await res.json()) as T
}

/** A short human sentence for an error, capitalized, for status lines. */
export function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : 'Something went wrong.'
  return text.charAt(0).toUpperCase() + text.slice(1)
}
