// Channel and server options for Raft traffic. Every write waits on a round trip over these
// connections, so the choices favour fast failure detection and no hidden buffering.

import type { ChannelOptions } from '@grpc/grpc-js';

/** AppendEntries batches carry many entries; 64 MiB leaves room far beyond 1 MiB batches. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const KEEPALIVE = {
  // A peer that vanished without a FIN/RST (paused, partitioned) is noticed within ~15 s even on a
  // stream with nothing to send; Raft's own heartbeats usually notice first.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
} satisfies ChannelOptions;

export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  ...KEEPALIVE,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  // No transparent retries: they buffer messages inside gRPC and replay them late. Raft tolerates
  // loss, not staleness; PeerSender reconnects on its own schedule.
  'grpc.enable_retries': 0,
  // Even with retries off, grpc-js copies each write into a per-call retry buffer (1 MiB by
  // default) and acknowledges it at once, so stream.write() would report no backpressure while a
  // connection is still being set up. With no retry buffer a write completes only when it reaches
  // the HTTP/2 stream, which makes write()'s return value, and PeerSender's bound, honest.
  'grpc.per_rpc_retry_buffer_size': 0,
  // A private subchannel per client: a new client after a failure really dials anew instead of
  // inheriting a shared subchannel's (up to 120 s) reconnect backoff, and closing the client frees
  // the socket.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 1_000,
  // The stream is long-lived and always in use; never let the channel go idle under it.
  'grpc.client_idle_timeout_ms': 2 ** 31 - 1,
};
// grpc-js sets TCP_NODELAY on client sockets itself, so small batches are not held back by
// Nagle's algorithm; all Raft payload flows client -> server on these streams.

export const SERVER_OPTIONS: ChannelOptions = {
  ...KEEPALIVE,
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
};
