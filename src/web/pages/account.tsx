/**
 * @module web/pages/account — sign-up, log-in, email confirmation and password reset pages.
 *
 * The forms post JSON to /api/v1/auth through the page module (account.ts). They are `method=post`
 * to this same page so that, without scripts, a submit can never put a password in a URL; the
 * server answers such a post with the page and a note that scripts are needed.
 */
import type { Child, FC } from 'hono/jsx'
import { Document, NoScript, type PageCtx } from './layout.js'

export type AccountForm = 'signup' | 'login' | 'verify-email' | 'forgot-password' | 'reset-password'

const Field: FC<{
  name: string
  label: string
  type?: string
  autocomplete?: string
  hint?: string
  required?: boolean
  minlength?: number
  maxlength?: number
  pattern?: string
  inputmode?: 'email' | 'text'
  autofocus?: boolean
}> = (p) => {
  const id = `f-${p.name}`
  const describedBy = [p.hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ')
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        autocomplete={p.autocomplete}
        required={p.required ?? true}
        minlength={p.minlength}
        maxlength={p.maxlength}
        pattern={p.pattern}
        inputmode={p.inputmode}
        autofocus={p.autofocus}
        aria-describedby={describedBy}
        spellcheck={false}
        autocapitalize="off"
      />
      {p.hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      <p class="field-error" id={`${id}-error`} data-error-for={p.name} />
    </div>
  )
}

const Card: FC<{
  ctx: PageCtx
  title: string
  form: AccountForm
  scriptNeeded?: boolean
  children?: Child
}> = ({ ctx, title, form, scriptNeeded, children }) => (
  <Document
    ctx={ctx}
    title={title}
    entry="account"
    bodyClass="layout-narrow"
    noReferrer={form === 'verify-email' || form === 'reset-password'}
  >
    <div class="auth" data-page={form}>
      <div class="card auth-card">
        {scriptNeeded && (
          <p class="notice notice-error" role="alert">
            This form needs JavaScript, which seems to be off or blocked. Nothing was sent.
          </p>
        )}
        {children}
      </div>
    </div>
  </Document>
)

/** The region the module fills with success or failure after a submit. */
const Status: FC = () => <div class="form-status" id="form-status" role="status" aria-live="polite" />

const Submit: FC<{ children?: Child }> = ({ children }) => (
  <button type="submit" class="btn btn-primary btn-block">
    {children}
  </button>
)

/** A configured OIDC provider, as the buttons need it. */
export type ProviderButton = { id: string; name: string }

/**
 * "Continue with …" links to /api/v1/auth/oidc/<id>/start: plain links, so they work without
 * scripts; `next` has already been through safeNext on the server.
 */
const ProviderButtons: FC<{ providers?: ProviderButton[]; next?: string; verb: string }> = ({
  providers,
  next,
  verb,
}) =>
  providers && providers.length > 0 ? (
    <div class="oidc-buttons" id="oidc-buttons">
      {providers.map((p) => (
        <a
          class="btn btn-ghost btn-block"
          data-provider={p.id}
          href={`/api/v1/auth/oidc/${p.id}/start?next=${encodeURIComponent(next ?? '/dashboard')}`}
        >
          {verb} with {p.name}
        </a>
      ))}
      <p class="auth-or muted">or</p>
    </div>
  ) : null

type AuthPageProps = { ctx: PageCtx; scriptNeeded?: boolean; providers?: ProviderButton[]; next?: string }

export const SignupPage: FC<AuthPageProps> = ({ ctx, scriptNeeded, providers, next }) => (
  <Card ctx={ctx} title="Sign up" form="signup" scriptNeeded={scriptNeeded}>
    <h1>Create your channel</h1>
    <p class="muted">Your username is your channel name: others find you at /c/username.</p>
    <ProviderButtons providers={providers} next={next} verb="Sign up" />
    <NoScript>Signing up needs JavaScript.</NoScript>
    <form id="signup-form" method="post" action="/signup" novalidate>
      <Field
        name="email"
        label="Email"
        type="email"
        autocomplete="email"
        inputmode="email"
        maxlength={254}
        autofocus
      />
      <Field
        name="username"
        label="Username"
        autocomplete="username"
        hint="3–24 characters: lower-case letters, digits and _"
        minlength={3}
        maxlength={24}
        pattern="[a-z0-9_]{3,24}"
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autocomplete="new-password"
        hint="At least 8 characters. A few unrelated words make a strong one."
        minlength={8}
        maxlength={128}
      />
      <Submit>Create account</Submit>
    </form>
    <Status />
    <p class="auth-alt">
      Already have an account? <a href="/login">Log in</a>
    </p>
  </Card>
)

export const LoginPage: FC<AuthPageProps> = ({ ctx, scriptNeeded, providers, next }) => (
  <Card ctx={ctx} title="Log in" form="login" scriptNeeded={scriptNeeded}>
    <h1>Welcome back</h1>
    <ProviderButtons providers={providers} next={next} verb="Continue" />
    <NoScript>Logging in needs JavaScript.</NoScript>
    <form id="login-form" method="post" action="/login" novalidate>
      <Field
        name="email"
        label="Email"
        type="email"
        autocomplete="email"
        inputmode="email"
        maxlength={254}
        autofocus
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autocomplete="current-password"
        maxlength={1024}
      />
      <div class="field-row">
        <label class="check">
          <input type="checkbox" name="remember" /> Keep me signed in for 30 days
        </label>
        <a href="/forgot-password">Forgot password?</a>
      </div>
      <Submit>Log in</Submit>
    </form>
    <Status />
    <p class="auth-alt">
      New here? <a href="/signup">Create an account</a>
    </p>
  </Card>
)

export const VerifyEmailPage: FC<{ ctx: PageCtx }> = ({ ctx }) => (
  <Card ctx={ctx} title="Confirm your email" form="verify-email">
    <h1>Confirm your email</h1>
    <NoScript>Confirming your address needs JavaScript.</NoScript>
    <div class="form-status" id="form-status" role="status" aria-live="polite">
      <p class="muted" id="verify-working">
        <span class="spinner spinner-inline" aria-hidden="true" /> Confirming your address…
      </p>
    </div>
  </Card>
)

export const ForgotPasswordPage: FC<{ ctx: PageCtx; scriptNeeded?: boolean }> = ({ ctx, scriptNeeded }) => (
  <Card ctx={ctx} title="Forgot password" form="forgot-password" scriptNeeded={scriptNeeded}>
    <h1>Reset your password</h1>
    <p class="muted">We'll mail you a link to choose a new one.</p>
    <NoScript>Resetting a password needs JavaScript.</NoScript>
    <form id="forgot-form" method="post" action="/forgot-password" novalidate>
      <Field
        name="email"
        label="Email"
        type="email"
        autocomplete="email"
        inputmode="email"
        maxlength={254}
        autofocus
      />
      <Submit>Send reset link</Submit>
    </form>
    <Status />
    <p class="auth-alt">
      Remembered it? <a href="/login">Log in</a>
    </p>
  </Card>
)

export const ResetPasswordPage: FC<{ ctx: PageCtx; scriptNeeded?: boolean }> = ({ ctx, scriptNeeded }) => (
  <Card ctx={ctx} title="Choose a new password" form="reset-password" scriptNeeded={scriptNeeded}>
    <h1>Choose a new password</h1>
    <p class="muted">This signs you out everywhere else.</p>
    <NoScript>Resetting a password needs JavaScript.</NoScript>
    <form id="reset-form" method="post" action="/reset-password" novalidate>
      <Field
        name="password"
        label="New password"
        type="password"
        autocomplete="new-password"
        hint="At least 8 characters."
        minlength={8}
        maxlength={128}
        autofocus
      />
      <Field name="confirm" label="Repeat it" type="password" autocomplete="new-password" maxlength={128} />
      <Submit>Save password</Submit>
    </form>
    <Status />
  </Card>
)
