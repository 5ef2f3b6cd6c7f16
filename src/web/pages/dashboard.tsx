/**
 * @module web/pages/dashboard — `/dashboard`: the broadcaster's OBS settings, stream keys, title,
 * moderators, past broadcasts, webhooks and signed-in devices.
 *
 * The server cannot know who is asking (the refresh cookie is scoped to /api/v1/auth and access
 * tokens live in page memory), so it renders the frame and what is public (the OBS server URL);
 * the page module signs in with the cookie and fills in the rest from the API.
 */
import type { FC } from 'hono/jsx'
import { SCOPES } from '../../api-tokens/scopes.js'
import { CopyIcon } from './icons.js'
import { Document, NoScript, type PageCtx, PageData } from './layout.js'
import { WebhooksPanel } from './webhooks-section.js'

export type DashboardPageData = { rtmpUrl: string }

const Section: FC<{ id: string; title: string; lead?: string; children?: unknown; wide?: boolean }> = ({
  id,
  title,
  lead,
  children,
  wide,
}) => (
  <section class={wide ? 'card panel panel-wide' : 'card panel'} id={id} aria-labelledby={`${id}-h`}>
    <h2 id={`${id}-h`}>{title}</h2>
    {lead && <p class="muted panel-lead">{lead}</p>}
    {children}
  </section>
)

export const DashboardPage: FC<{ ctx: PageCtx; rtmpUrl: string }> = ({ ctx, rtmpUrl }) => (
  <Document ctx={ctx} title="Creator dashboard" entry="dashboard">
    <PageData data={{ rtmpUrl } satisfies DashboardPageData} />
    <div class="page dashboard" id="dashboard" data-ready="false">
      <div class="page-head">
        <div>
          <h1>Creator dashboard</h1>
          <p class="muted" id="dash-whoami">
            Loading your channel…
          </p>
        </div>
        <div class="page-head-actions" id="dash-status" />
      </div>
      <NoScript>The dashboard needs JavaScript.</NoScript>
      <div class="notice notice-warn" id="verify-banner" hidden>
        <p>
          <strong>Confirm your email to go live.</strong> We sent a link to <span id="verify-email" />.
        </p>
        <button type="button" class="btn btn-sm btn-ghost" id="resend-verification">
          Send it again
        </button>
      </div>
      <div class="dash-grid">
        <Section
          id="obs"
          title="Stream setup"
          lead="In OBS: Settings → Stream → Service “Custom…”, then paste these. Settings → Output: keyframe interval 1 s."
          wide
        >
          <div class="copy-field">
            <label for="obs-server">Server</label>
            <div class="copy-row">
              <input id="obs-server" class="mono" type="text" readonly value={rtmpUrl} />
              <button
                type="button"
                class="btn btn-ghost btn-icon"
                data-copy="obs-server"
                aria-label="Copy server URL"
              >
                <CopyIcon /> <span class="copy-label">Copy</span>
              </button>
            </div>
          </div>
          <div class="new-key" id="new-key" hidden>
            <p class="new-key-head">
              <strong>Your new stream key</strong> — copy it now: it is shown only once.
            </p>
            <div class="copy-row">
              <input id="new-key-value" class="mono" type="text" readonly aria-label="New stream key" />
              <button
                type="button"
                class="btn btn-primary btn-icon"
                data-copy="new-key-value"
                aria-label="Copy stream key"
              >
                <CopyIcon /> <span class="copy-label">Copy</span>
              </button>
            </div>
            <p class="muted small">Anyone with this key can stream as you. Revoke it below if it leaks.</p>
            <button type="button" class="btn btn-ghost btn-sm" id="new-key-done">
              I've saved it
            </button>
          </div>
          <form class="inline-form" id="key-form">
            <div class="field grow">
              <label for="key-label">New key label</label>
              <input
                id="key-label"
                name="label"
                type="text"
                maxlength={64}
                placeholder="e.g. OBS on my desktop"
              />
            </div>
            <button type="submit" class="btn btn-primary">
              Create stream key
            </button>
          </form>
          <p class="field-error" id="key-error" role="alert" />
          <h3 class="subhead">Your keys</h3>
          <div id="keys" class="table-wrap">
            <p class="muted">Loading…</p>
          </div>
        </Section>
        <Section id="info" title="Stream info" lead="Shown on your channel and in the live directory.">
          <form id="title-form" class="stack">
            <div class="field">
              <label for="title-input">Title</label>
              <input
                id="title-input"
                name="title"
                type="text"
                maxlength={140}
                placeholder="What are you streaming?"
              />
            </div>
            <div class="form-actions">
              <button type="submit" class="btn btn-primary">
                Save title
              </button>
              <span class="form-status-inline" id="title-status" role="status" />
            </div>
          </form>
          <p class="muted small" id="channel-link" />
          <label class="check">
            <input type="checkbox" id="record-input" /> Record my broadcasts: each one becomes a video on my
            channel when it ends
          </label>
          <span class="form-status-inline" id="record-status" role="status" />
        </Section>
        <Section
          id="mods"
          title="Moderators"
          lead="Moderators can delete messages, time out and ban in your chat."
        >
          <form id="mod-form" class="inline-form">
            <div class="field grow">
              <label for="mod-input">Username</label>
              <input
                id="mod-input"
                name="username"
                type="text"
                maxlength={24}
                pattern="[a-z0-9_]{3,24}"
                required
              />
            </div>
            <button type="submit" class="btn btn-ghost">
              Add moderator
            </button>
          </form>
          <p class="field-error" id="mod-error" role="alert" />
          <ul class="list" id="mod-list" />
        </Section>
        <Section id="history" title="Past broadcasts" wide>
          <p class="panel-lead">
            <a href="/dashboard/analytics" id="analytics-link">
              Viewers, watch time and playback quality →
            </a>
          </p>
          <div id="sessions" class="table-wrap">
            <p class="muted">Loading…</p>
          </div>
        </Section>
        <Section
          id="tokens"
          title="API tokens"
          lead="Personal access tokens let scripts and bots use the API as you, limited to the scopes you pick. They never change your password, sessions or tokens."
          wide
        >
          <div class="new-key" id="new-token" hidden>
            <p class="new-key-head">
              <strong>Your new token</strong> — copy it now: it is shown only once.
            </p>
            <div class="copy-row">
              <input id="new-token-value" class="mono" type="text" readonly aria-label="New API token" />
              <button
                type="button"
                class="btn btn-primary btn-icon"
                data-copy="new-token-value"
                aria-label="Copy API token"
              >
                <CopyIcon /> <span class="copy-label">Copy</span>
              </button>
            </div>
            <p class="muted small">Send it as “Authorization: Bearer …”. Revoke it below if it leaks.</p>
            <button type="button" class="btn btn-ghost btn-sm" id="new-token-done">
              I've saved it
            </button>
          </div>
          <form class="stack" id="token-form">
            <div class="inline-form">
              <div class="field grow">
                <label for="token-name">Token name</label>
                <input
                  id="token-name"
                  name="name"
                  type="text"
                  maxlength={64}
                  required
                  placeholder="e.g. chat bot"
                />
              </div>
              <div class="field">
                <label for="token-days">Expires in (days)</label>
                <input id="token-days" name="expiresInDays" type="number" min={1} max={365} value="30" />
              </div>
            </div>
            <fieldset class="scope-list">
              <legend class="muted small">Scopes</legend>
              {SCOPES.map((scope) => (
                <label class="check">
                  <input type="checkbox" name="scopes" value={scope} /> <code>{scope}</code>
                </label>
              ))}
            </fieldset>
            <div class="form-actions">
              <button type="submit" class="btn btn-primary">
                Create token
              </button>
            </div>
          </form>
          <p class="field-error" id="token-error" role="alert" />
          <div id="tokens-list" class="table-wrap">
            <p class="muted">Loading…</p>
          </div>
        </Section>
        <Section id="sign-in" title="Sign-in methods" lead="Providers you can sign in with." wide>
          <div id="identities-list" class="table-wrap">
            <p class="muted">Loading…</p>
          </div>
          <p class="field-error" id="identity-error" role="alert" />
          <p class="muted small" id="password-note" hidden>
            You have no password yet. To set one, use <a href="/forgot-password">Forgot password</a>: we mail
            you a link.
          </p>
        </Section>
        <Section
          id="webhooks-panel"
          title="Webhooks"
          lead="We POST signed events to your URLs: going live, going offline, new followers."
          wide
        >
          <WebhooksPanel />
        </Section>
        <Section id="devices" title="Signed-in devices" lead="Sign out anywhere you no longer use." wide>
          <div id="devices-list" class="table-wrap">
            <p class="muted">Loading…</p>
          </div>
        </Section>
      </div>
    </div>
  </Document>
)
