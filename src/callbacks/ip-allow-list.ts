/** The optional second gate: callbacks only from listed addresses or ranges (`req.ip`). */
import net from 'node:net';

/**
 * The networks Resurs' FAQ ("How do I configure my firewall/network?") lists as its traffic's
 * source. Confirm the current list with Resurs before relying on it (see the README).
 */
export const RESURS_CALLBACK_IPS: readonly string[] = Object.freeze(['192.121.110.0/24', '194.68.237.0/24', '91.198.202.0/24']);

/** Compiles the list once; the check is a lookup. `undefined` allows every address. */
export function compileIpAllowList(entries: readonly string[] | undefined): (ip: string | undefined) => boolean {
  if (!entries) return () => true;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (ip) => {
    if (!ip) return false;
    const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    return list.check(plain, net.isIPv6(plain) ? 'ipv6' : 'ipv4');
  };
}
