/** @module mail/mailer — outgoing mail over SMTP (nodemailer), or printed to the log when SMTP_URL is unset. */
import nodemailer from 'nodemailer'
import type { Logger } from '../log.js'

export type Mail = { to: string; subject: string; text: string; html?: string }
export interface Mailer {
  send(mail: Mail): Promise<void>
  close(): void
}

export function createMailer(opts: { smtpUrl: string | undefined; from: string; log: Logger }): Mailer {
  if (!opts.smtpUrl) {
    return {
      // Development convenience (API.md): the link is in the log so a newcomer can follow it.
      async send(mail) {
        opts.log.info(
          { mail: { to: mail.to, subject: mail.subject, text: mail.text } },
          'mail (SMTP_URL unset, not sent)',
        )
      },
      close() {},
    }
  }
  const transport = nodemailer.createTransport(opts.smtpUrl)
  return {
    async send(mail) {
      await transport.sendMail({ from: opts.from, ...mail })
    },
    close() {
      transport.close()
    },
  }
}
