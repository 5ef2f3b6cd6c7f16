/** @module accounts/mails — the account mails' wording; pure functions, sent through the outbox. */
import type { Mail } from '../mail/mailer.js'

export function verificationMail(to: { email: string; username: string }, link: string): Mail {
  return {
    to: to.email,
    subject: 'Confirm your email address',
    text: `Hi ${to.username},\n\nconfirm your email address to start streaming and chatting:\n\n${link}\n\nThe link works once and expires in 24 hours.\n`,
  }
}

/**
 * Addressed to the address as typed (emails are stored lower-cased, as the form normalises them),
 * with no username: the request path builds it before it knows whether the account exists, so
 * both cases do the same work (password-flows.ts).
 */
export function resetMail(email: string, link: string): Mail {
  return {
    to: email,
    subject: 'Reset your password',
    text: `Hi,\n\nsomeone asked to reset the password of the account with this address. If it was you, open:\n\n${link}\n\nThe link works once and expires in an hour. If it wasn't you, ignore this mail.\n`,
  }
}

export function passwordChangedMail(to: { email: string; username: string }, publicUrl: string): Mail {
  return {
    to: to.email,
    subject: 'Your password was changed',
    text: `Hi ${to.username},\n\nyour password was just changed and every other device was signed out. If this wasn't you, reset your password at ${publicUrl}/forgot-password at once.\n`,
  }
}
