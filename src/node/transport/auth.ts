// A shared cluster token, sent as call metadata and checked when a stream opens, compared in
// constant time. Without TLS it travels in clear text: fine on loopback or a private network.

import { Metadata } from '@grpc/grpc-js';
import { secretMatches } from '../../common/secrets.js';

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
  return secretMatches(typeof presented === 'string' ? presented : undefined, requiredToken);
}
