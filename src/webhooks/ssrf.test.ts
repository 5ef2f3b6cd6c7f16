import { describe, expect, it } from 'vitest'
import { checkHost, checkUrlShape, guardedLookup, isPublicAddress, type Resolver } from './ssrf.js'

const fixed =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1', // CGNAT
    '224.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    'not-an-ip',
  ])('refuses %s', (ip) => expect(isPublicAddress(ip)).toBe(false))

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (ip) =>
    expect(isPublicAddress(ip)).toBe(true),
  )
})

describe('checkUrlShape', () => {
  it.each([
    ['ftp://example.com/x', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['https://user:pw@example.com/x', /credentials/],
    ['https://token@example.com/x', /credentials/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, why) => expect(() => checkUrlShape(url)).toThrow(why))

  it('normalises numeric IPv4 forms, so they are checked as the address they are', async () => {
    const url = checkUrlShape('http://0x7f.1/hook')
    expect(url.hostname).toBe('127.0.0.1')
    await expect(checkHost(url.hostname, { resolve: fixed(), allowPrivate: false })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    })
  })
})

describe('checkHost', () => {
  const strict = (r: Resolver) => ({ resolve: r, allowPrivate: false })
  it('refuses a name if any of its addresses is not public', async () => {
    await expect(checkHost('mixed.test', strict(fixed('8.8.8.8', '10.0.0.7')))).rejects.toThrow(
      /resolves to 10\.0\.0\.7, which is a private address/,
    )
    await expect(checkHost('ok.test', strict(fixed('8.8.8.8')))).resolves.toHaveLength(1)
  })
  it('refuses a name that does not resolve', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })
    }
    await expect(checkHost('nowhere.test', strict(failing))).rejects.toThrow(/does not resolve/)
  })
  it('allows anything with allowPrivate (development)', async () => {
    await expect(checkHost('127.0.0.1', { resolve: fixed(), allowPrivate: true })).resolves.toHaveLength(1)
  })
})

describe('guardedLookup (the connect-time check)', () => {
  const lookup = (r: Resolver, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup({ resolve: r, allowPrivate: false })('h.test', { all }, (err, address) =>
        resolve({ err, address }),
      ),
    )
  it('hands net.connect the checked addresses', async () => {
    expect((await lookup(fixed('8.8.8.8'), false)).address).toBe('8.8.8.8')
    expect((await lookup(fixed('8.8.8.8'), true)).address).toEqual([{ address: '8.8.8.8', family: 4 }])
  })
  it('fails the connection when the answer is not public', async () => {
    const { err } = await lookup(fixed('127.0.0.1'), true)
    expect(err?.code).toBe('EADDRNOTALLOWED')
    expect(err?.message).toMatch(/loopback/)
  })
})
