// Who the members are and where to reach them. The core only knows ids; addresses and node UUIDs
// travel in the context of each membership-change entry, so every node learns them from the log.
import type { ConfState } from '../raft/index.js';
import type { Member } from './storage/index.js';

/** Whether `id` is named by the membership, as a voter or a learner. */
export function inConf(conf: ConfState, id: number): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMemberContext(member: Member): Uint8Array {
  const { httpUrl, raftAddr, nodeUuid } = member;
  return encoder.encode(
    JSON.stringify(nodeUuid === undefined ? { httpUrl, raftAddr } : { httpUrl, raftAddr, nodeUuid }),
  );
}

export function decodeMemberContext(id: number, context: Uint8Array): Member {
  if (context.length === 0) return { id, httpUrl: '', raftAddr: '' };
  const parsed = JSON.parse(decoder.decode(context)) as Record<string, unknown>;
  return {
    id,
    httpUrl: typeof parsed.httpUrl === 'string' ? parsed.httpUrl : '',
    raftAddr: typeof parsed.raftAddr === 'string' ? parsed.raftAddr : '',
    ...(typeof parsed.nodeUuid === 'string' ? { nodeUuid: parsed.nodeUuid } : {}),
  };
}

export class MemberDirectory {
  private readonly byId = new Map<number, Member>();

  constructor(members: readonly Member[] = []) {
    for (const m of members) this.byId.set(m.id, m);
  }

  get(id: number): Member | undefined {
    return this.byId.get(id);
  }

  set(member: Member): void {
    // An entry without addresses (e.g. from an older node) keeps the ones we knew.
    const known = this.byId.get(member.id);
    const nodeUuid = member.nodeUuid ?? known?.nodeUuid;
    this.byId.set(member.id, {
      id: member.id,
      httpUrl: member.httpUrl || known?.httpUrl || '',
      raftAddr: member.raftAddr || known?.raftAddr || '',
      ...(nodeUuid === undefined ? {} : { nodeUuid }),
    });
  }

  delete(id: number): void {
    this.byId.delete(id);
  }

  list(): Member[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}
