import { describe, expect, it } from 'vitest'
import { parseClusterNodes } from './client.js'

describe('REDIS_CLUSTER_NODES', () => {
  it('takes host:port entries and redis:// URLs whose credentials apply to every node', () => {
    expect(parseClusterNodes(['10.0.0.1:7000', ' redis-2:7001 ', ''])).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-2', port: 7001 },
      ],
      options: {},
    })
    expect(parseClusterNodes(['redis://:p%40ss@a:7000', 'b'])).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 6379 },
      ],
      options: { password: 'p@ss' },
    })
    expect(parseClusterNodes(['rediss://user:pw@[::1]:7000']).options).toEqual({
      password: 'pw',
      username: 'user',
      tls: {},
    })
    expect(parseClusterNodes(['rediss://[::1]:7000']).nodes).toEqual([{ host: '::1', port: 7000 }])
  })

  it('refuses a list that names no node', () => {
    expect(() => parseClusterNodes([' ', ''])).toThrow(/names no node/)
  })
})
