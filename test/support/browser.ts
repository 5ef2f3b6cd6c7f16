/**
 * @module test/support/browser — Debian's chromium driven by playwright-core (no browser download):
 * one browser per call, each with a fresh profile directory, so two calls are as separate as two
 * people's machines (no shared cookies). Console errors, CSP violations and uncaught exceptions of
 * every page are collected for the test to assert on and to print when it fails.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The flags the issue asks for: no sandbox (containers), no GPU, no network chatter of its own. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

export type TestBrowser = {
  context: BrowserContext
  page: Page
  /** Console errors, CSP reports and page errors, prefixed with the page URL. */
  problems: string[]
  close(): Promise<void>
}

export async function launchBrowser(
  opts: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
): Promise<TestBrowser> {
  const profileDir = mkdtempSync(join(tmpdir(), 'live-chromium-'))
  const problems: string[] = []
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: opts.viewport ?? { width: 1280, height: 720 },
      javaScriptEnabled: opts.javaScriptEnabled ?? true,
      locale: 'en-GB',
      timezoneId: 'UTC',
    })
  } catch (err) {
    rmSync(profileDir, { recursive: true, force: true })
    throw err
  }
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${page.url()} console: ${msg.text()}`)
    })
    page.on('pageerror', (err) => problems.push(`${page.url()} pageerror: ${err.message}`))
  }
  context.on('page', watch)
  for (const p of context.pages()) watch(p)
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {})
      rmSync(profileDir, { recursive: true, force: true })
    },
  }
}

/** Saves a PNG under test-artifacts/screenshots/ (git-ignored) and returns its path. */
export async function screenshot(
  page: Page,
  name: string,
  opts: { fullPage?: boolean } = {},
): Promise<string> {
  const dir = join(ARTIFACTS, 'screenshots')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}.png`)
  await page.screenshot({ path, animations: 'disabled', caret: 'hide', fullPage: opts.fullPage ?? false })
  return path
}

/**
 * Everything but a 404: the player asks for a playlist nginx has not written yet (just after a
 * publish starts) or has already removed. CSP violations, exceptions and any other failed request
 * are bugs.
 */
export function seriousProblems(problems: string[]): string[] {
  return problems.filter(
    (p) => !/console: Failed to load resource: the server responded with a status of 404/.test(p),
  )
}
