/** @module lib/ip-allowlist — matches a peer address against IPs and CIDR ranges (node:net BlockList). */
import { BlockList, isIPv4 } from 'node:net'

export type IpAllowlist = (address: string | undefined) => boolean

export function createIpAllowlist(entries: string[]): IpAllowlist {
  const list = new BlockList()
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined]
    const type = isIPv4(addr) ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(addr, type)
    else list.addSubnet(addr, Number(bits), type)
  }
  return (address) => {
    if (!address) return false
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4.
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
    if (isIPv4(v4)) return list.check(v4, 'ipv4')
    return list.check(address, 'ipv6')
  }
}
