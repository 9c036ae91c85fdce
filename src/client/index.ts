// The shortener's TypeScript client: `new ShortenerClient({ nodes: [...] })`, then create,
// resolve, stats and delete. See README "Client".
export { ShortenerClient } from './client.js';
export {
  AliasTakenError,
  ApiError,
  NetworkError,
  NotLeaderError,
  ShortenerError,
  isAliasTaken,
  isNotFound,
  type ErrorBody,
} from './errors.js';
export {
  TransportError,
  UndiciTransport,
  type HttpMethod,
  type Transport,
  type TransportFailure,
  type TransportRequest,
  type TransportResponse,
  type UndiciTransportOptions,
} from './transport.js';
export type {
  CallInfo,
  Consistency,
  CreateOptions,
  CreateResult,
  DeleteResult,
  Exchange,
  ReadOptions,
  ResolveResult,
  RetryPolicy,
  ShortenerClientOptions,
  ShortUrl,
  UrlStats,
  Visits,
} from './types.js';
