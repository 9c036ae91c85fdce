// Shared helpers for transport tests: message builders, a poll-with-deadline wait, and a
// transport factory that registers everything it starts for cleanup.

import pino from 'pino';
import { GrpcTransport, type GrpcTransportOptions } from '../../../src/node/transport/grpc-transport.js';
import type { PeerDirectory } from '../../../src/node/transport/validate-message.js';
import { EMPTY_BYTES, EntryType, MessageType, type Message } from '../../../src/raft/types.js';

export const silentLogger = pino({ level: 'silent' });

/** A receiver that takes every node for a member (the transport tests are not about membership). */
export const ANY_MEMBER: PeerDirectory = { isMember: () => true, leaderId: () => 0 };

/** An AppendEntries with one entry whose data encodes `seq`, so order and contents are checkable. */
export function appMessage(from: number, to: number, seq: number): Message {
  const data = new Uint8Array([0, 255, seq & 0xff, (seq >> 8) & 0xff, 0x80]);
  return {
    type: MessageType.App,
    from,
    to,
    term: 7,
    logTerm: 6,
    index: seq,
    entries: [{ term: 7, index: seq + 1, type: EntryType.Normal, data }],
    commit: seq,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: EMPTY_BYTES,
  };
}

/** Polls `condition` every few ms until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Starts transports and remembers them so that afterEach can stop every one. */
export class TransportPool {
  private readonly started: GrpcTransport[] = [];

  async start(
    options: Partial<GrpcTransportOptions> & Pick<GrpcTransportOptions, 'nodeId'>,
  ): Promise<{ transport: GrpcTransport; address: string; port: number }> {
    const transport = new GrpcTransport({
      clusterId: 'test-cluster',
      listenAddr: '127.0.0.1:0',
      onMessages: () => {},
      logger: silentLogger,
      peers: ANY_MEMBER,
      ...options,
    });
    this.started.push(transport);
    const { port } = await transport.start();
    return { transport, port, address: `127.0.0.1:${port}` };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((t) => t.stop()));
  }
}
