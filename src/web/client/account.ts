/**
 * @module web/client/account — sign-up, log-in, email confirmation, forgot and reset password.
 * Each page is a plain form; this module posts it as JSON and shows field errors next to fields.
 */
import { safeNext } from '../shared/format.js'
import { ApiError, api, describe } from './api.js'
import { $, h } from './dom.js'
import { initNav } from './nav.js'
import { adopt, getSession, hintedUsername, logout, type TokenResponse } from './session.js'

const status = () => document.getElementById('form-status')

function showStatus(kind: 'error' | 'ok' | 'info', ...content: (Node | string)[]): void {
  const el = status()
  if (!el) return
  el.replaceChildren(
    h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, ...content),
  )
}

function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('[data-error-for]')) el.textContent = ''
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid')
  status()?.replaceChildren()
}

function fieldError(form: HTMLFormElement, name: string, message: string): boolean {
  const slot = form.querySelector<HTMLElement>(`[data-error-for="${name}"]`)
  const input = form.elements.namedItem(name) as HTMLInputElement | null
  if (!slot || !input) return false
  slot.textContent = message.charAt(0).toUpperCase() + message.slice(1)
  input.setAttribute('aria-invalid', 'true')
  return true
}

/** Browser-side checks first (same rules as the API), so most mistakes need no round trip. */
function checkNative(form: HTMLFormElement): boolean {
  let firstBad: HTMLInputElement | null = null
  for (const input of form.querySelectorAll<HTMLInputElement>('input[name]')) {
    if (input.validity.valid) continue
    const label = form.querySelector(`label[for="${input.id}"]`)?.textContent ?? input.name
    const message = input.validity.valueMissing
      ? `${label} is required`
      : input.validity.typeMismatch
        ? 'That does not look like an email address'
        : input.validity.tooShort
          ? `Use at least ${input.minLength} characters`
          : input.validity.patternMismatch
            ? (input.closest('.field')?.querySelector('.field-hint')?.textContent ?? 'Invalid format')
            : input.validationMessage
    fieldError(form, input.name, message)
    firstBad ??= input
  }
  firstBad?.focus()
  return firstBad === null
}

/** Shows an API error on its fields, or as a form-level message. */
function showError(
  form: HTMLFormElement,
  err: unknown,
  messages: Partial<Record<string, string>> = {},
): void {
  if (err instanceof ApiError) {
    let placed = false
    for (const [field, message] of Object.entries(err.fields))
      placed = fieldError(form, field, message) || placed
    if (placed) {
      form.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus()
      return
    }
    if (err.code === 'RATE_LIMITED') {
      showStatus('error', `Too many attempts. Try again in ${err.retryAfterS ?? 60} seconds.`)
      return
    }
    showStatus('error', messages[err.code] ?? describe(err))
    return
  }
  showStatus('error', describe(err))
}

/** Wires a form: validation, a busy button, and `submit(values)`. */
function onSubmit(form: HTMLFormElement, submit: (values: FormData) => Promise<void>): void {
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    clearErrors(form)
    if (!checkNative(form)) return
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')
    if (button) {
      button.disabled = true
      button.setAttribute('aria-busy', 'true')
    }
    try {
      await submit(new FormData(form))
    } finally {
      if (button) {
        button.disabled = false
        button.removeAttribute('aria-busy')
      }
    }
  })
}

const str = (v: FormData, k: string) => String(v.get(k) ?? '')

function signup(form: HTMLFormElement): void {
  const username = form.elements.namedItem('username') as HTMLInputElement
  const hint = document.getElementById('f-username-hint')
  const defaultHint = hint?.textContent ?? ''
  let timer: number | undefined
  username.addEventListener('input', () => {
    username.value = username.value.toLowerCase()
    clearTimeout(timer)
    if (!hint) return
    hint.textContent = defaultHint
    hint.className = 'field-hint'
    if (!/^[a-z0-9_]{3,24}$/.test(username.value)) return
    timer = window.setTimeout(async () => {
      const asked = username.value
      try {
        const r = await api<{ available: boolean; message?: string }>(
          `/api/v1/auth/availability?username=${encodeURIComponent(asked)}`,
          { auth: false },
        )
        if (asked !== username.value) return
        hint.textContent = r.available
          ? `✓ ${asked} is available`
          : `${asked} ${r.message ?? 'is not available'}`
        hint.className = r.available ? 'field-hint field-hint-ok' : 'field-hint field-hint-bad'
      } catch {
        // availability is a convenience; the submit will say the same
      }
    }, 350)
  })
  onSubmit(form, async (v) => {
    const email = str(v, 'email').trim()
    try {
      await api('/api/v1/auth/register', {
        method: 'POST',
        auth: false,
        body: { email, username: str(v, 'username'), password: str(v, 'password') },
      })
    } catch (err) {
      showError(form, err)
      return
    }
    form.hidden = true
    document.querySelector('.auth-alt')?.remove()
    showStatus(
      'ok',
      h('strong', {}, 'Check your inbox.'),
      ` We sent a confirmation link to ${email}. Open it to confirm your address, then log in.`,
    )
    status()?.append(h('a', { class: 'btn btn-primary btn-block', href: '/login' }, 'Go to log in'))
  })
}

/** What /api/v1/auth/oidc/…/callback sends a browser back with when sign-in failed. */
const OIDC_ERRORS: Record<string, string> = {
  OIDC_FAILED: 'Signing in with that provider did not work (it may have taken too long). Try again.',
  IDENTITY_NOT_LINKED:
    'An account with this email already exists, and the provider has not verified the address. Log in with your password instead.',
  UNAVAILABLE: 'The sign-in provider cannot be reached right now. Try again later.',
  UNAUTHORIZED: 'This account is disabled.',
}

function showOidcError(): void {
  const url = new URL(location.href)
  const code = url.searchParams.get('error')
  if (!code) return
  url.searchParams.delete('error')
  history.replaceState(null, '', url.pathname + url.search)
  showStatus('error', OIDC_ERRORS[code] ?? 'Signing in with that provider did not work. Try again.')
}

function login(form: HTMLFormElement): void {
  const next = safeNext(new URLSearchParams(location.search).get('next'))
  showOidcError()
  onSubmit(form, async (v) => {
    try {
      const res = await api<TokenResponse>('/api/v1/auth/login', {
        method: 'POST',
        auth: false,
        body: {
          email: str(v, 'email').trim(),
          password: str(v, 'password'),
          remember: v.get('remember') === 'on',
        },
      })
      adopt(res)
    } catch (err) {
      showError(form, err, { UNAUTHORIZED: 'Wrong email or password.' })
      return
    }
    location.assign(next)
  })
}

/** Reads a one-time token from the URL and removes it (history, screenshots, shoulder surfers). */
function takeToken(): string | null {
  const url = new URL(location.href)
  const token = url.searchParams.get('token')
  if (token) {
    url.searchParams.delete('token')
    history.replaceState(null, '', url.pathname + url.search)
  }
  return token
}

async function verifyEmail(): Promise<void> {
  const token = takeToken()
  if (!token) {
    showStatus('error', 'This confirmation link is incomplete. Open the link from the mail again.')
    return
  }
  try {
    await api('/api/v1/auth/verify-email', { method: 'POST', auth: false, body: { token } })
  } catch (err) {
    const expired = err instanceof ApiError && err.status === 401
    showStatus(
      'error',
      expired ? 'This confirmation link is invalid, used or expired. ' : `${describe(err)} `,
      h('a', { href: '/login?next=/dashboard' }, 'Log in'),
      ' and ask for a new one from your dashboard.',
    )
    return
  }
  const signedIn = (await getSession()) !== null
  showStatus('ok', h('strong', {}, 'Your email is confirmed.'), ' You can now create a stream key and chat.')
  status()?.append(
    h(
      'a',
      { class: 'btn btn-primary btn-block', href: signedIn ? '/dashboard' : '/login?next=/dashboard' },
      signedIn ? 'Go to your dashboard' : 'Log in',
    ),
  )
}

function forgot(form: HTMLFormElement): void {
  onSubmit(form, async (v) => {
    const email = str(v, 'email').trim()
    try {
      await api('/api/v1/auth/password/forgot', { method: 'POST', auth: false, body: { email } })
    } catch (err) {
      showError(form, err)
      return
    }
    form.hidden = true
    showStatus('ok', `If an account exists for ${email}, a reset link is on its way. It works for an hour.`)
  })
}

function reset(form: HTMLFormElement): void {
  const token = takeToken()
  if (!token) {
    form.hidden = true
    showStatus(
      'error',
      'This reset link is incomplete. ',
      h('a', { href: '/forgot-password' }, 'Ask for a new one.'),
    )
    return
  }
  onSubmit(form, async (v) => {
    const password = str(v, 'password')
    if (password !== str(v, 'confirm')) {
      fieldError(form, 'confirm', 'The two passwords differ')
      return
    }
    try {
      await api('/api/v1/auth/password/reset', { method: 'POST', auth: false, body: { token, password } })
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        showStatus(
          'error',
          'This reset link is invalid, used or expired. ',
          h('a', { href: '/forgot-password' }, 'Ask for a new one.'),
        )
      } else showError(form, err)
      return
    }
    // The reset ended every session, this browser's included.
    if (hintedUsername()) await logout().catch(() => {})
    form.hidden = true
    showStatus('ok', h('strong', {}, 'Password changed.'), ' You were signed out everywhere.')
    status()?.append(h('a', { class: 'btn btn-primary btn-block', href: '/login' }, 'Log in'))
  })
}

initNav()
const pageName = $('[data-page]')?.dataset.page
const formOf = (id: string) => document.getElementById(id) as HTMLFormElement | null
if (pageName === 'signup') signup(formOf('signup-form')!)
else if (pageName === 'login') login(formOf('login-form')!)
else if (pageName === 'verify-email') void verifyEmail()
else if (pageName === 'forgot-password') forgot(formOf('forgot-form')!)
else if (pageName === 'reset-password') reset(formOf('reset-form')!)
