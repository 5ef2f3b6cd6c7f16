/** @module web/pages/not-found — the HTML 404 for browsers (API clients keep getting problem+json). */
import type { FC } from 'hono/jsx'
import { Document, type PageCtx } from './layout.js'

export const NotFoundPage: FC<{ ctx: PageCtx; what?: string }> = ({ ctx, what }) => (
  <Document ctx={ctx} title="Not found" entry="home" bodyClass="layout-narrow">
    <div class="page">
      <div class="empty-state">
        <p class="big-code" aria-hidden="true">
          404
        </p>
        <h1>{what ? `There is no channel called “${what}”` : 'This page does not exist'}</h1>
        <p class="muted">Check the address, or see who is live right now.</p>
        <div class="actions">
          <a class="btn btn-primary" href="/">
            Browse live channels
          </a>
        </div>
      </div>
    </div>
  </Document>
)
