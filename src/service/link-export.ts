// Export of every link: one consistent view of this node's store, as of one applied index.
import type { UrlRecord } from '../domain/records.js';
import type { UrlStore } from '../shortener/url-store.js';

/** Every link as of `index`. close() must be called, also when the reader stops early. */
export interface LinkSnapshot {
  readonly index: number;
  records(): Iterable<UrlRecord>;
  close(): void;
}

export class LinkExport {
  constructor(private readonly store: Pick<UrlStore, 'flush' | 'openRecordsView'>) {}

  /**
   * Everything applied on this node when it was asked for (flushed first, so the view is not
   * behind what this node already serves), in one read transaction.
   */
  async exportLinks(): Promise<LinkSnapshot> {
    await this.store.flush();
    return this.store.openRecordsView();
  }
}
