/**
 * @module web/client/chat-view — the chat log: messages in seq order (deduplicated by id across
 * reconnects), system lines for moderation, per-message moderation buttons, and scroll that follows
 * new messages only while the reader is at the bottom.
 */
import { hueOf } from '../shared/format.js'
import type { ChatMessage, ChatRole } from './chat-socket.js'
import { h } from './dom.js'

const MAX_LINES = 300
const BADGE: Partial<Record<ChatRole, string>> = { owner: 'Broadcaster', moderator: 'Mod', admin: 'Staff' }

export type ModAction =
  | { kind: 'delete'; id: string }
  | { kind: 'timeout'; username: string; seconds: number }
  | { kind: 'ban'; username: string }
  | { kind: 'unban'; username: string }

export class ChatView {
  private readonly ids = new Map<string, HTMLElement>()
  /** Who may moderate and who they are, from the socket's `you`; null when anonymous. */
  private me: { username: string; role: ChatRole } | null = null
  private readonly jump: HTMLButtonElement
  /** Highest seq shown: a system line sits right after it, before anything newer. */
  private maxSeq = 0

  constructor(
    private readonly log: HTMLElement,
    private readonly onMod: (action: ModAction) => void,
  ) {
    this.jump = h('button', { type: 'button', class: 'chat-jump', hidden: true }, 'New messages below ↓')
    this.jump.addEventListener('click', () => this.scrollToEnd())
    log.after(this.jump)
    log.addEventListener('scroll', () => {
      if (this.atBottom()) this.jump.hidden = true
    })
    log.addEventListener('click', (e) => {
      const button = (e.target as Element).closest<HTMLButtonElement>('button[data-mod]')
      if (!button) return
      const line = button.closest<HTMLElement>('[data-user]')
      const username = line?.dataset.user ?? button.dataset.user ?? ''
      const kind = button.dataset.mod
      if (kind === 'delete' && line?.dataset.id) this.onMod({ kind: 'delete', id: line.dataset.id })
      else if (kind === 'timeout') this.onMod({ kind: 'timeout', username, seconds: 600 })
      else if (kind === 'ban' && confirm(`Ban ${username} from this chat?`))
        this.onMod({ kind: 'ban', username })
      else if (kind === 'unban') this.onMod({ kind: 'unban', username })
    })
  }

  setMe(me: { username: string; role: ChatRole } | null): void {
    const wasMod = this.canModerate()
    this.me = me
    this.log.classList.toggle('can-moderate', this.canModerate())
    if (wasMod !== this.canModerate()) {
      for (const line of this.ids.values()) this.decorate(line)
    }
  }

  canModerate(): boolean {
    return this.me !== null && this.me.role !== 'user'
  }

  private atBottom(): boolean {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48
  }

  private scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight
    this.jump.hidden = true
  }

  /** Runs a DOM change, then keeps the reader at the bottom if they were there. */
  private follow(change: () => void, fromMe = false): void {
    const stick = fromMe || this.atBottom()
    change()
    while (this.log.childElementCount > MAX_LINES) {
      const first = this.log.firstElementChild as HTMLElement
      if (first.dataset.id) this.ids.delete(first.dataset.id)
      first.remove()
    }
    if (stick) this.scrollToEnd()
    else this.jump.hidden = false
  }

  private line(m: ChatMessage): HTMLElement {
    const badge = BADGE[m.user.role]
    const el = h(
      'div',
      { class: 'msg', 'data-id': m.id, 'data-seq': m.seq, 'data-user': m.user.username },
      h(
        'time',
        { class: 'msg-time', datetime: m.ts },
        new Date(m.ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
      ),
      badge ? h('span', { class: `msg-badge msg-badge-${m.user.role}` }, badge) : null,
      h('span', { class: 'msg-user', style: `--hue:${hueOf(m.user.username)}` }, m.user.username),
      h('span', { class: 'msg-sep', 'aria-hidden': 'true' }, ': '),
      h('span', { class: 'msg-text' }, m.text),
    )
    this.decorate(el)
    return el
  }

  /** Adds (or removes) the moderation buttons a moderator sees on a message. */
  private decorate(el: HTMLElement): void {
    el.querySelector('.msg-actions')?.remove()
    if (!this.canModerate() || el.classList.contains('msg-deleted')) return
    const user = el.dataset.user ?? ''
    const target = user !== this.me?.username && el.querySelector('.msg-badge-owner') === null
    el.append(
      h(
        'span',
        { class: 'msg-actions' },
        h(
          'button',
          {
            type: 'button',
            'data-mod': 'delete',
            title: 'Delete message',
            'aria-label': `Delete message from ${user}`,
          },
          'Delete',
        ),
        target
          ? h(
              'button',
              {
                type: 'button',
                'data-mod': 'timeout',
                title: 'Time out for 10 minutes',
                'aria-label': `Time out ${user} for 10 minutes`,
              },
              '10 min',
            )
          : null,
        target
          ? h(
              'button',
              { type: 'button', 'data-mod': 'ban', title: 'Ban from chat', 'aria-label': `Ban ${user}` },
              'Ban',
            )
          : null,
      ),
    )
  }

  /** Inserts messages in seq order, skipping any already shown (welcome history after a reconnect). */
  add(messages: ChatMessage[], fromMe = false): void {
    const fresh = messages.filter((m) => !this.ids.has(m.id))
    if (fresh.length === 0) return
    this.log.querySelector('.chat-empty')?.remove()
    this.follow(() => {
      for (const m of fresh) {
        const el = this.line(m)
        this.ids.set(m.id, el)
        this.maxSeq = Math.max(this.maxSeq, m.seq)
        let after: Element | null = null
        for (let n = this.log.lastElementChild; n; n = n.previousElementSibling) {
          const seq = Number((n as HTMLElement).dataset.seq ?? -1)
          if (seq <= m.seq) {
            after = n
            break
          }
        }
        if (after) after.after(el)
        else this.log.prepend(el)
      }
    }, fromMe)
  }

  /** A line saying that part of the chat could not be recovered after a long disconnect. */
  gap(beforeSeq: number): void {
    const el = h(
      'div',
      { class: 'msg msg-system', 'data-seq': beforeSeq - 0.5 },
      'Some earlier messages were skipped.',
    )
    const next = [...this.log.children].find((n) => Number((n as HTMLElement).dataset.seq) >= beforeSeq)
    if (next) next.before(el)
  }

  system(text: string, action?: { label: string; mod: 'unban'; user: string }): void {
    this.follow(() => {
      const el = h('div', { class: 'msg msg-system', 'data-seq': this.maxSeq + 0.5 }, text)
      if (action && this.canModerate()) {
        el.append(
          ' ',
          h(
            'button',
            { type: 'button', class: 'link-button', 'data-mod': action.mod, 'data-user': action.user },
            action.label,
          ),
        )
      }
      this.log.append(el)
    })
  }

  deleted(id: string): void {
    const el = this.ids.get(id)
    if (!el) return
    el.classList.add('msg-deleted')
    el.querySelector('.msg-text')!.textContent = 'message deleted by a moderator'
    el.querySelector('.msg-actions')?.remove()
  }

  /** A banned or timed-out user's messages disappear from view, as on other platforms. */
  hideFrom(username: string): void {
    for (const el of this.ids.values()) {
      if (el.dataset.user === username) this.deleted(el.dataset.id!)
    }
  }

  cleared(): void {
    this.ids.clear()
    this.log.replaceChildren()
    this.system('The chat was cleared by a moderator.')
  }

  empty(text: string): void {
    if (this.log.childElementCount === 0) this.log.append(h('p', { class: 'chat-empty' }, text))
  }
}
