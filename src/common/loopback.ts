// Is an address this machine? Protected mode (no cluster token) keeps Raft and the cluster
// endpoints to such addresses.

/**
 * A host name, an IP, or a socket's remote address (IPv4-mapped IPv6 included). Only literal
 * addresses count: a name like "127.example.com" may resolve anywhere.
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return (
    address === 'localhost' ||
    address === '::1' ||
    /^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address)
  );
}
