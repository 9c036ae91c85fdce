// What the HTTP layer needs from a node: the link service, cluster administration and readiness
// (src/service/), as one object. Tests implement fakes of it. HTTP never sees Raft messages, only
// these calls and the domain's typed errors (domain/errors.ts).
import type { ClusterAdmin } from '../service/cluster-admin.js';
import type { LinkExport } from '../service/link-export.js';
import type { LinkService } from '../service/link-service.js';
import type { Readiness } from '../service/readiness.js';

/** Set on a join a follower passes on to its leader: the receiver never passes it on again. */
export const FORWARDED_JOIN_HEADER = 'x-join-forwarded-by';

export type LinkApi = Pick<
  LinkService,
  | 'createShortUrl'
  | 'updateShortUrl'
  | 'deleteShortUrl'
  | 'listShortUrls'
  | 'lookup'
  | 'lookupAfterMiss'
  | 'lookupLinearizable'
>;
export type ClusterApi = Pick<ClusterAdmin, 'status' | 'addMember' | 'removeMember' | 'backup'>;
export type ReadinessApi = Pick<Readiness, 'isReady' | 'isReadyForRedirects'>;

export type ExportApi = Pick<LinkExport, 'exportLinks'>;

export type NodeApi = LinkApi & ClusterApi & ReadinessApi & ExportApi;

/** The node's services as the one NodeApi the routes are given. */
export function nodeApiOf(
  links: LinkApi,
  cluster: ClusterApi,
  readiness: ReadinessApi,
  exporter: ExportApi,
): NodeApi {
  return {
    createShortUrl: (request) => links.createShortUrl(request),
    updateShortUrl: (input) => links.updateShortUrl(input),
    deleteShortUrl: (code) => links.deleteShortUrl(code),
    listShortUrls: (query) => links.listShortUrls(query),
    lookup: (code) => links.lookup(code),
    lookupAfterMiss: (code) => links.lookupAfterMiss(code),
    lookupLinearizable: (code) => links.lookupLinearizable(code),
    status: () => cluster.status(),
    addMember: (request, options) => cluster.addMember(request, options),
    removeMember: (id) => cluster.removeMember(id),
    backup: () => cluster.backup(),
    isReady: () => readiness.isReady(),
    isReadyForRedirects: () => readiness.isReadyForRedirects(),
    exportLinks: () => exporter.exportLinks(),
  };
}
