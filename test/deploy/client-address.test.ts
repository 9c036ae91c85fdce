// --trust-proxy: X-Forwarded-For / Forwarded name the client only when the peer is trusted.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddressResolver, forwardedChain, parseCidrs } from '../../src/http/client-address.js';

function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('client address', () => {
  const behindLb = clientAddressResolver({ trustedProxies: ['10.0.0.0/8', '::1/128'] });

  it('an untrusted peer is the client, whatever headers it sends', () => {
    expect(behindLb(request('203.0.113.5', { 'x-forwarded-for': '1.2.3.4' }))).toBe('203.0.113.5');
    expect(behindLb(request('::ffff:203.0.113.5'))).toBe('203.0.113.5');
  });

  it('a trusted proxy: the rightmost address that is not a trusted proxy', () => {
    expect(behindLb(request('10.1.1.1', { 'x-forwarded-for': '198.51.100.7' }))).toBe('198.51.100.7');
    // A client's forged entry sits left of what the proxy appended: never reached.
    expect(behindLb(request('10.1.1.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' }))).toBe(
      '198.51.100.7',
    );
    // Two proxies of ours in a row (a node that forwarded a write after the balancer).
    expect(behindLb(request('10.0.0.2', { 'x-forwarded-for': '198.51.100.7, 10.0.0.9' }))).toBe(
      '198.51.100.7',
    );
    expect(behindLb(request('::1', { 'x-forwarded-for': '2001:db8::5' }))).toBe('2001:db8::5');
  });

  it('reads Forwarded: for= when there is no X-Forwarded-For', () => {
    const req = request('10.1.1.1', { forwarded: 'for=198.51.100.7;proto=https, for="[2001:db8::9]:4711"' });
    expect(forwardedChain(req)).toEqual(['198.51.100.7', '2001:db8::9']);
    expect(behindLb(req)).toBe('2001:db8::9');
  });

  it('a trusted peer without forwarding headers is itself the client', () => {
    expect(behindLb(request('10.1.1.1'))).toBe('10.1.1.1');
  });

  it('without --trust-proxy, headers never count', () => {
    const none = clientAddressResolver({});
    expect(none(request('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }))).toBe('127.0.0.1');
  });

  it('a node forwarding a write with the cluster token is trusted like a proxy', () => {
    const resolve = clientAddressResolver({ clusterToken: 's3cret' });
    const forwarded = { 'x-forwarded-for': '198.51.100.7, 192.0.2.1' };
    expect(resolve(request('192.0.2.50', { ...forwarded, 'x-cluster-token': 's3cret' }))).toBe('192.0.2.1');
    expect(resolve(request('192.0.2.50', { ...forwarded, 'x-cluster-token': 'wrong' }))).toBe('192.0.2.50');
  });

  it('refuses bad CIDRs at startup', () => {
    expect(() => parseCidrs(['10.0.0.0/33'])).toThrow(/prefix/);
    expect(() => parseCidrs(['not-an-ip'])).toThrow(/not an IP/);
    expect(() => parseCidrs(['10.0.0.0/'])).toThrow(/prefix/);
    expect(parseCidrs(['10.0.0.1', ' fd00::/8 ']).check('fd00::1', 'ipv6')).toBe(true);
  });
});
