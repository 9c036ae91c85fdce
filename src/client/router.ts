// Which node a request goes to: writes to the leader the client last heard of (a 409 names it),
// reads round robin over the read nodes. Shared by all the calls of one client, so a leader learnt
// by one write saves the hop for every later one.
import { trimSlash } from './answers.js';

export class NodeRouter {
  readonly nodes: readonly string[];
  readonly readNodes: readonly string[];
  private leader: string | undefined;
  private readCursor = 0;

  constructor(nodes: readonly string[], readNodes?: readonly string[], leaderUrl?: string) {
    if (nodes.length === 0) throw new TypeError('the client needs at least one node URL');
    this.nodes = nodes.map(checkedBaseUrl);
    this.readNodes = (readNodes ?? nodes).map(checkedBaseUrl);
    if (this.readNodes.length === 0) throw new TypeError('readNodes must not be empty');
    this.leader = leaderUrl === undefined ? undefined : checkedBaseUrl(leaderUrl);
  }

  /** Where the next write goes: the known leader, else the first node. */
  get writeTarget(): string {
    return this.leader ?? this.nodes[0];
  }

  rememberLeader(url: string): void {
    this.leader = url;
  }

  /** `failed` did not take a write: unless a later answer named another leader, stop assuming it leads. */
  forgetLeader(failed: string): void {
    if (this.leader === failed) this.leader = undefined;
  }

  /** The node after `current` in the list (the first when `current` is not in it). */
  nodeAfter(current: string): string {
    const at = this.nodes.indexOf(current);
    return this.nodes[(at + 1) % this.nodes.length];
  }

  /** The read nodes in the order one read tries them: each read starts one further along. */
  readOrder(): string[] {
    const start = this.readCursor;
    this.readCursor = (this.readCursor + 1) % this.readNodes.length;
    return this.readNodes.map((_, k) => this.readNodes[(start + k) % this.readNodes.length]);
  }
}

function checkedBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`node URLs must be http(s): ${url}`);
  }
  return trimSlash(url);
}
