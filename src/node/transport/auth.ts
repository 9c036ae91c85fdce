// A shared cluster token, sent as call metadata and checked when a stream opens. This is the hook
// for the later auth issue: today it is optional and compared in constant time; TLS will still be
// needed to keep it secret on the wire.

import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';

export const CLUSTER_TOKEN_METADATA_KEY = 'x-raft-cluster-token';

export function tokenMetadata(authToken: string | undefined): Metadata {
  const metadata = new Metadata();
  if (authToken !== undefined) metadata.set(CLUSTER_TOKEN_METADATA_KEY, authToken);
  return metadata;
}

/** True when no token is required, or the call carries exactly the required one. */
export function isAuthorized(metadata: Metadata, requiredToken: string | undefined): boolean {
  if (requiredToken === undefined) return true;
  const presented = metadata.get(CLUSTER_TOKEN_METADATA_KEY)[0];
  if (typeof presented !== 'string') return false;
  // Hash both sides so the comparison is constant-time regardless of the presented length.
  return timingSafeEqual(sha256(presented), sha256(requiredToken));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
