/**
 * @module web/pages/webhooks-section — the dashboard's webhook panel: add an endpoint (its signing
 * secret shown once), and the list web/client/webhooks.ts fills in with tests, the delivery log,
 * enable/disable, secret rotation and delete.
 */
import type { FC } from 'hono/jsx'
import { SUBSCRIBABLE_EVENTS } from '../../webhooks/events.js'
import { CopyIcon } from './icons.js'

const DEFAULT_EVENTS = new Set(['stream.online', 'stream.offline'])

export const WebhooksPanel: FC = () => (
  <>
    <div class="new-key" id="new-secret" hidden>
      <p class="new-key-head">
        <strong>Signing secret</strong> — copy it now: it is shown only once.
      </p>
      <div class="copy-row">
        <input id="new-secret-value" class="mono" type="text" readonly aria-label="Webhook signing secret" />
        <button
          type="button"
          class="btn btn-primary btn-icon"
          data-copy="new-secret-value"
          aria-label="Copy signing secret"
        >
          <CopyIcon /> <span class="copy-label">Copy</span>
        </button>
      </div>
      <p class="muted small">
        Verify every delivery with it (Standard Webhooks signatures). Rotate it below if it leaks.
      </p>
      <button type="button" class="btn btn-ghost btn-sm" id="new-secret-done">
        I've saved it
      </button>
    </div>
    <form class="stack" id="webhook-form">
      <div class="field">
        <label for="webhook-url">Endpoint URL</label>
        <input
          id="webhook-url"
          name="url"
          type="url"
          required
          maxlength={2048}
          placeholder="https://example.com/hooks/live"
        />
      </div>
      <fieldset class="field">
        <legend>Events</legend>
        {SUBSCRIBABLE_EVENTS.map((e) => (
          <label class="check">
            <input type="checkbox" name="events" value={e} checked={DEFAULT_EVENTS.has(e)} /> <code>{e}</code>
          </label>
        ))}
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary">
          Add endpoint
        </button>
      </div>
    </form>
    <p class="field-error" id="webhook-error" role="alert" />
    <h3 class="subhead">Your endpoints</h3>
    <div id="webhooks" class="table-wrap">
      <p class="muted">Loading…</p>
    </div>
    <div id="webhook-deliveries" class="table-wrap" hidden />
  </>
)
