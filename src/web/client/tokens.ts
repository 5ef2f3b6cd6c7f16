/**
 * @module web/client/tokens — the dashboard's "API tokens" (create: shown once with a copy button;
 * list; revoke) and "Sign-in methods" (linked providers; unlink) sections.
 */
import type { PublicApiToken } from '../../api-tokens/service.js'
import { dateTime } from '../shared/format.js'
import { ApiError, api, describe } from './api.js'
import { h, must, table } from './dom.js'

/** The API's own answer type (type-only: no server code is bundled). */
type Token = PublicApiToken
type Identities = {
  hasPassword: boolean
  identities: { provider: string; name: string; email: string | null; createdAt: string }[]
}

const TOKEN_ERRORS: Record<string, string> = {
  PLAN_LIMIT: 'You have as many tokens as your plan allows. Revoke one first.',
  RATE_LIMITED: 'Too many tokens created recently. Try again later.',
}

export async function loadTokens(): Promise<void> {
  const tokens = await api<Token[]>('/api/v1/tokens')
  const now = Date.now()
  must('#tokens-list').replaceChildren(
    table(
      ['Name', 'Token', 'Scopes', 'Expires', 'Last used', ''],
      tokens.map((t) => [
        t.name,
        h('code', { class: 'mono' }, t.preview),
        t.scopes.join(', '),
        Date.parse(t.expiresAt) <= now ? h('span', { class: 'tag' }, 'Expired') : dateTime(t.expiresAt),
        t.lastUsedAt ? `${dateTime(t.lastUsedAt)}${t.lastUsedIp ? ` from ${t.lastUsedIp}` : ''}` : 'Never',
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-danger btn-sm',
            'data-revoke-token': t.id,
            'aria-label': `Revoke ${t.name}`,
          },
          'Revoke',
        ),
      ]),
      'No tokens yet.',
    ),
  )
}

export function initTokens(): void {
  const error = must('#token-error')
  const form = must<HTMLFormElement>('#token-form')
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    const data = new FormData(form)
    const scopes = data.getAll('scopes').map(String)
    if (scopes.length === 0) {
      error.textContent = 'Pick at least one scope.'
      return
    }
    const button = must<HTMLButtonElement>('button[type="submit"]', form)
    button.disabled = true
    try {
      const created = await api<Token & { token: string }>('/api/v1/tokens', {
        method: 'POST',
        body: {
          name: String(data.get('name') ?? '').trim(),
          scopes,
          expiresInDays: Number(data.get('expiresInDays') || 30),
        },
      })
      must<HTMLInputElement>('#new-token-value').value = created.token
      must('#new-token').hidden = false
      must<HTMLInputElement>('#new-token-value').select()
      form.reset()
      await loadTokens()
    } catch (err) {
      error.textContent = err instanceof ApiError ? (TOKEN_ERRORS[err.code] ?? describe(err)) : describe(err)
    } finally {
      button.disabled = false
    }
  })
  must('#new-token-done').addEventListener('click', () => {
    // Forget the token: from here on only its preview exists anywhere.
    must<HTMLInputElement>('#new-token-value').value = ''
    must('#new-token').hidden = true
  })
  must('#tokens-list').addEventListener('click', async (e) => {
    const button = (e.target as Element).closest<HTMLButtonElement>('[data-revoke-token]')
    if (!button) return
    if (!confirm('Revoke this token? Anything using it stops working at once.')) return
    button.disabled = true
    try {
      await api(`/api/v1/tokens/${button.dataset.revokeToken}`, { method: 'DELETE' })
      await loadTokens()
    } catch (err) {
      button.disabled = false
      error.textContent = describe(err)
    }
  })
}

export async function loadIdentities(): Promise<void> {
  const { hasPassword, identities } = await api<Identities>('/api/v1/me/identities')
  must('#password-note').hidden = hasPassword
  must('#identities-list').replaceChildren(
    table(
      ['Provider', 'Email', 'Linked', ''],
      identities.map((i) => [
        i.name,
        i.email ?? '—',
        dateTime(i.createdAt),
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-unlink': i.provider }, 'Unlink'),
      ]),
      hasPassword ? 'You sign in with your password only.' : 'No providers linked.',
    ),
  )
}

export function initIdentities(): void {
  const error = must('#identity-error')
  must('#identities-list').addEventListener('click', async (e) => {
    const button = (e.target as Element).closest<HTMLButtonElement>('[data-unlink]')
    if (!button) return
    error.textContent = ''
    button.disabled = true
    try {
      await api(`/api/v1/me/identities/${button.dataset.unlink}`, { method: 'DELETE' })
      await loadIdentities()
    } catch (err) {
      button.disabled = false
      error.textContent =
        err instanceof ApiError && err.code === 'LAST_SIGN_IN_METHOD'
          ? 'This is your only way to sign in. Set a password first (Forgot password mails you a link).'
          : describe(err)
    }
  })
}
