/**
 * @module web/pages/analytics — `/dashboard/analytics`: a broadcaster's audience and playback
 * quality as charts (uPlot, bundled with the analytics module), each with its numbers as a table
 * for screen readers and anyone who would rather read them. Like the dashboard, the server
 * renders the frame; the page module signs in and fills it from the API.
 */
import type { FC } from 'hono/jsx'
import { Document, NoScript, type PageCtx } from './layout.js'

const Figure: FC<{ id: string; title: string; lead: string }> = ({ id, title, lead }) => (
  <section class="card panel panel-wide chart-panel" id={id} aria-labelledby={`${id}-h`}>
    <h2 id={`${id}-h`}>{title}</h2>
    <p class="muted panel-lead">{lead}</p>
    <div class="chart" id={`${id}-chart`} role="img" aria-label={`${title}: loading`} />
    <p class="chart-status muted" id={`${id}-status`} role="status" />
    <details class="chart-table">
      <summary>Show the numbers as a table</summary>
      <div class="table-wrap" id={`${id}-table`} />
    </details>
  </section>
)

const Tile: FC<{ id: string; label: string; hint?: string }> = ({ id, label, hint }) => (
  <div class="tile">
    <dt>{label}</dt>
    <dd id={id}>—</dd>
    {hint && <p class="tile-hint">{hint}</p>}
  </div>
)

export const AnalyticsPage: FC<{ ctx: PageCtx }> = ({ ctx }) => (
  <Document ctx={ctx} title="Analytics" entry="analytics">
    <div class="page analytics" id="analytics" data-ready="false">
      <div class="page-head">
        <div>
          <h1>Analytics</h1>
          <p class="muted" id="an-whoami">
            Loading your channel…
          </p>
        </div>
        <div class="page-head-actions">
          <a class="btn btn-ghost btn-sm" href="/dashboard">
            Back to the dashboard
          </a>
        </div>
      </div>
      <NoScript>Analytics need JavaScript.</NoScript>
      <p class="notice notice-warn" id="an-notice" role="status" hidden />
      <div class="dash-grid">
        <section class="card panel panel-wide" aria-labelledby="an-totals-h">
          <h2 id="an-totals-h">Last 30 days</h2>
          <dl class="tiles" id="an-totals">
            <Tile id="t-views" label="Views" />
            <Tile id="t-unique" label="Unique viewers" />
            <Tile id="t-watch" label="Watch time" />
            <Tile id="t-avg" label="Average view" />
            <Tile id="t-peak" label="Peak concurrent" />
            <Tile
              id="t-page"
              label="On our page"
              hint="Share of views in our player; the rest in VLC, TVs, other players"
            />
          </dl>
          <h3 class="subhead">Playback quality (our player)</h3>
          <dl class="tiles" id="an-qoe">
            <Tile id="q-startup" label="Startup time (median)" hint="Page open to first frame" />
            <Tile id="q-rebuffer" label="Rebuffering" hint="Share of watching spent stalled" />
            <Tile id="q-latency" label="Latency (median)" hint="Behind the live edge" />
          </dl>
        </section>
        <Figure
          id="concurrent"
          title="Concurrent viewers"
          lead="Viewers watching at once during a broadcast, minute by minute."
        />
        <Figure
          id="watchtime"
          title="Watch time per day"
          lead="Time spent watching each day (UTC), in any player."
        />
        <section class="card panel panel-wide" aria-labelledby="an-broadcasts-h">
          <h2 id="an-broadcasts-h">Broadcasts</h2>
          <p class="muted panel-lead">Pick one to chart its viewers. Quality figures come from our player.</p>
          <div class="table-wrap" id="an-broadcasts">
            <p class="muted">Loading…</p>
          </div>
        </section>
      </div>
    </div>
  </Document>
)
