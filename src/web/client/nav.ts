/** @module web/client/nav — the top bar's account area: log out, and redraw it when the session ends. */
import { h } from './dom.js'
import { logout } from './session.js'

function signedOut(account: HTMLElement): void {
  const next = encodeURIComponent(location.pathname)
  account.dataset.user = ''
  account.replaceChildren(
    h('a', { class: 'btn btn-ghost btn-sm', href: `/login?next=${next}` }, 'Log in'),
    h('a', { class: 'btn btn-primary btn-sm', href: '/signup' }, 'Sign up'),
  )
}

export function initNav(): void {
  const account = document.getElementById('account')
  if (!account) return
  account.addEventListener('click', async (e) => {
    const button = (e.target as Element).closest<HTMLButtonElement>('[data-action="logout"]')
    if (!button) return
    button.disabled = true
    try {
      await logout()
    } finally {
      location.assign('/')
    }
  })
  window.addEventListener('live:signed-out', () => signedOut(account))
}
