import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { contextProblem, isCommonPassword, passwordProblems } from './password-policy.js'

const listed = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))

describe('breached password list', () => {
  it('bundles 10,000 distinct passwords, all long enough to pass the length rule', () => {
    expect(listed).toHaveLength(10_000)
    expect(new Set(listed).size).toBe(10_000)
    expect(listed.every((p) => p.length >= 8 && p.length <= 128 && p === p.toLowerCase())).toBe(true)
  })

  it('catches the classics in any case, and the last entry of the list', () => {
    for (const p of [
      'password',
      '12345678',
      'qwertyuiop',
      'Password1',
      'ILOVEYOU',
      'trustno1',
      listed.at(-1)!,
    ]) {
      expect(isCommonPassword(p), p).toBe(true)
    }
  })

  it('lets uncommon passwords through', () => {
    for (const p of ['correct horse battery staple', 'plum tuesday kettle 42', 'zq8#kLp2']) {
      expect(isCommonPassword(p), p).toBe(false)
    }
  })
})

describe('context-specific words', () => {
  it('refuses the username or email local part inside the password, in any case', () => {
    expect(contextProblem('xxALICE99xx', { username: 'alice99' })).toMatch(/username/)
    expect(contextProblem('my bob.smith pass', { email: 'bob.smith@example.test' })).toMatch(/email/)
    expect(contextProblem('I love livestream', {})).toMatch(/site/)
  })

  it('ignores names too short to matter', () => {
    expect(contextProblem('bobsled racing team', { username: 'bob', email: 'bob@example.test' })).toBeNull()
  })

  it('reports every problem on the given field', () => {
    expect(passwordProblems('password', { username: 'password' }, 'newPassword')).toEqual([
      { field: 'newPassword', message: expect.stringContaining('too common') },
      { field: 'newPassword', message: expect.stringContaining('username') },
    ])
  })
})
