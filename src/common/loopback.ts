// Is an address this machine? Protected mode (no cluster token) keeps Raft and the cluster
// endpoints to such addresses.

/** A host name, an IP, or a socket's remote address (IPv4-mapped IPv6 included). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return (
    address === 'localhost' ||
    address === '::1' ||
    address.startsWith('127.') ||
    address.startsWith('::ffff:127.')
  );
}
