// Who the members are and where to reach them. The core only knows ids; addresses travel in the
// context of each membership-change entry, so every node learns them from the log.
import type { ConfState } from '../raft/index.js';
import type { Member } from './storage/index.js';

/** Whether `id` is named by the membership, as a voter or a learner. */
export function inConf(conf: ConfState, id: number): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMemberContext(member: Member): Uint8Array {
  return encoder.encode(JSON.stringify({ httpUrl: member.httpUrl, raftAddr: member.raftAddr }));
}

export function decodeMemberContext(id: number, context: Uint8Array): Member {
  if (context.length === 0) return { id, httpUrl: '', raftAddr: '' };
  const parsed = JSON.parse(decoder.decode(context)) as { httpUrl?: unknown; raftAddr?: unknown };
  return {
    id,
    httpUrl: typeof parsed.httpUrl === 'string' ? parsed.httpUrl : '',
    raftAddr: typeof parsed.raftAddr === 'string' ? parsed.raftAddr : '',
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
    // A removal entry carries no addresses: keep the ones we knew.
    const known = this.byId.get(member.id);
    this.byId.set(member.id, {
      id: member.id,
      httpUrl: member.httpUrl || known?.httpUrl || '',
      raftAddr: member.raftAddr || known?.raftAddr || '',
    });
  }

  delete(id: number): void {
    this.byId.delete(id);
  }

  list(): Member[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}
