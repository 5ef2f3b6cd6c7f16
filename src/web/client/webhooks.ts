/**
 * @module web/client/webhooks — the dashboard's webhook panel: create (the secret is shown once,
 * then forgotten), list, send a test, read the delivery log, enable/disable, rotate, delete.
 */
import { dateTime } from '../shared/format.js'
import { ApiError, api, describe } from './api.js'
import { h, must } from './dom.js'

type Endpoint = {
  id: string
  url: string
  events: string[]
  enabled: boolean
  disabledReason: string | null
  failingSince: string | null
}
type Attempt = { at: string; status: number | null; durationMs: number; error: string | null }
type Delivery = {
  webhookId: string
  sequence: number
  event: string
  status: string
  createdAt: string
  nextAttemptAt: string | null
  attempts: Attempt[]
}

const listEl = () => must('#webhooks')
const errorEl = () => must('#webhook-error')

function showError(err: unknown): void {
  errorEl().textContent =
    err instanceof ApiError
      ? ({
          URL_NOT_ALLOWED: `That URL cannot receive webhooks: ${err.message}`,
          PLAN_LIMIT: 'You have as many endpoints as your plan allows. Delete one first.',
          EMAIL_NOT_VERIFIED: 'Confirm your email address first: the link is in your inbox.',
        }[err.code] ?? describe(err))
      : describe(err)
}

function showSecret(secret: string): void {
  must<HTMLInputElement>('#new-secret-value').value = secret
  must('#new-secret').hidden = false
  must<HTMLInputElement>('#new-secret-value').select()
}

const button = (label: string, data: Record<string, string>, cls = 'btn btn-ghost btn-sm') =>
  h('button', { type: 'button', class: cls, ...data }, label)

async function loadWebhooks(): Promise<void> {
  const endpoints = await api<Endpoint[]>('/api/v1/webhooks')
  if (endpoints.length === 0) {
    listEl().replaceChildren(h('p', { class: 'muted' }, 'No endpoints yet.'))
    return
  }
  const head = ['URL', 'Events', 'State', '']
  listEl().replaceChildren(
    h(
      'table',
      { class: 'table' },
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...endpoints.map((e) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'URL' }, h('code', { class: 'mono' }, e.url)),
            h('td', { 'data-label': 'Events' }, e.events.join(', ')),
            h(
              'td',
              { 'data-label': 'State' },
              e.enabled
                ? e.failingSince
                  ? h('span', { class: 'tag' }, `Failing since ${dateTime(e.failingSince)}`)
                  : 'Enabled'
                : h(
                    'span',
                    { class: 'tag' },
                    e.disabledReason === 'failing' ? 'Disabled: failing' : 'Disabled',
                  ),
            ),
            h(
              'td',
              {},
              button('Send test', { 'data-test': e.id }),
              button('Deliveries', { 'data-log': e.id }),
              button(e.enabled ? 'Disable' : 'Enable', {
                'data-toggle': e.id,
                'data-enabled': String(e.enabled),
              }),
              button('Rotate secret', { 'data-rotate': e.id }),
              button('Delete', { 'data-delete': e.id }, 'btn btn-danger btn-sm'),
            ),
          ),
        ),
      ),
    ),
  )
}

async function showDeliveries(id: string): Promise<void> {
  const { deliveries } = await api<{ deliveries: Delivery[] }>(`/api/v1/webhooks/${id}/deliveries?limit=20`)
  const box = must('#webhook-deliveries')
  box.hidden = false
  const last = (d: Delivery) => d.attempts.at(-1)
  box.replaceChildren(
    h('h3', { class: 'subhead' }, 'Recent deliveries'),
    deliveries.length === 0
      ? h('p', { class: 'muted' }, 'Nothing sent yet.')
      : h(
          'table',
          { class: 'table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['#', 'Event', 'Status', 'Attempts', 'Last answer', 'Created'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            ...deliveries.map((d) =>
              h(
                'tr',
                {},
                h('td', {}, String(d.sequence)),
                h('td', {}, d.event),
                h(
                  'td',
                  {},
                  d.status === 'pending' && d.nextAttemptAt
                    ? `retrying ${dateTime(d.nextAttemptAt)}`
                    : d.status,
                ),
                h('td', {}, String(d.attempts.length)),
                h(
                  'td',
                  {},
                  last(d)
                    ? `${last(d)!.status ?? '—'} ${last(d)!.error ?? ''} (${last(d)!.durationMs} ms)`
                    : '—',
                ),
                h('td', {}, dateTime(d.createdAt)),
              ),
            ),
          ),
        ),
  )
}

export function initWebhooks(): Promise<void> {
  must('#new-secret-done').addEventListener('click', () => {
    // Forget the secret: from here on only the server (encrypted) and the receiver hold it.
    must<HTMLInputElement>('#new-secret-value').value = ''
    must('#new-secret').hidden = true
  })
  must<HTMLFormElement>('#webhook-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const submit = must<HTMLButtonElement>('button[type="submit"]', form)
    errorEl().textContent = ''
    const events = [...form.querySelectorAll<HTMLInputElement>('input[name="events"]:checked')].map(
      (i) => i.value,
    )
    submit.disabled = true
    try {
      const created = await api<Endpoint & { secret: string }>('/api/v1/webhooks', {
        method: 'POST',
        body: { url: must<HTMLInputElement>('#webhook-url').value.trim(), events },
      })
      showSecret(created.secret)
      must<HTMLInputElement>('#webhook-url').value = ''
      await loadWebhooks()
    } catch (err) {
      showError(err)
    } finally {
      submit.disabled = false
    }
  })
  listEl().addEventListener('click', async (e) => {
    const b = (e.target as Element).closest<HTMLButtonElement>('button')
    if (!b) return
    const d = b.dataset
    errorEl().textContent = ''
    try {
      if (d.test) {
        await api(`/api/v1/webhooks/${d.test}/test`, { method: 'POST' })
        await showDeliveries(d.test)
      } else if (d.log) await showDeliveries(d.log)
      else if (d.toggle) {
        await api(`/api/v1/webhooks/${d.toggle}`, {
          method: 'PATCH',
          body: { enabled: d.enabled !== 'true' },
        })
        await loadWebhooks()
      } else if (d.rotate) {
        if (!confirm('Make a new secret? The old one keeps signing for 24 hours.')) return
        showSecret(
          (await api<{ secret: string }>(`/api/v1/webhooks/${d.rotate}/rotate-secret`, { method: 'POST' }))
            .secret,
        )
      } else if (d.delete) {
        if (!confirm('Delete this endpoint and its delivery log?')) return
        await api(`/api/v1/webhooks/${d.delete}`, { method: 'DELETE' })
        must('#webhook-deliveries').hidden = true
        await loadWebhooks()
      }
    } catch (err) {
      showError(err)
    }
  })
  return loadWebhooks()
}
