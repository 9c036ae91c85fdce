// The membership fault: remove a member and add one back, through the cluster's own HTTP API, the
// way an operator replaces a node (README "Removing a node", "Replacing a dead node"):
//   replace        remove node X (DELETE /cluster/members/X on the leader; for the leader itself
//                  the leader hands leadership over first and answers 409 pointing at the new
//                  leader, where the DELETE is sent again), let X serve a moment longer (clients
//                  learn of a removal late), stop it (SIGTERM or SIGKILL), wipe its data dir, keep
//                  the cluster one voter short for a while, then start a fresh X with --join;
//   replace-new-id the same, but the fresh node gets a new id, new ports and a new link proxy;
//   add-then-remove  a fresh node joins first (one voter more for a while), then X is removed.
// X is the leader or a follower. A joining node is a learner until the leader promotes it; the
// fault ends when it is a voter and caught up. The cluster never goes below a majority of its
// original size, and a fault whose join failed is made good by the next one (restore / shrink).
import type { NodeProcess } from '../../src/launcher/node-process.js';
import type { ChaosCluster } from './chaos-cluster.js';
import type { FaultRecord } from './nemesis.js';
import type { Rng } from './rng.js';
import { sleep } from '../sleep.js';

export type MembershipVariant = 'replace' | 'replace-new-id' | 'add-then-remove';
type Role = 'leader' | 'follower';

/** How long a removal or a join (with the promotion) may take before the fault gives up. */
const CHANGE_TIMEOUT_MS = 30_000;

export interface MembershipContext {
  cluster: ChaosCluster;
  rng: Rng;
  now: () => number;
  /** The fault's hold (the nemesis's faultMs); ends early when the run stops. */
  hold: () => Promise<void>;
  signal: AbortSignal;
}

/**
 * Cycles through every (variant, leader or follower) pair in a seeded order, so that a run with
 * a few membership faults covers removing a leader and a follower early.
 */
export class MembershipPlanner {
  private queue: Array<{ variant: MembershipVariant; role: Role }> = [];

  constructor(private readonly rng: Rng) {}

  next(): { variant: MembershipVariant; role: Role } {
    if (this.queue.length === 0) {
      const variants: MembershipVariant[] = ['replace', 'replace-new-id', 'add-then-remove'];
      // Alternate roles, leader first: the two removals that take different paths in the server.
      const pairs = this.rng.shuffle(variants).flatMap((variant, i) => [
        { variant, role: (i % 2 === 0 ? 'leader' : 'follower') as Role },
        { variant, role: (i % 2 === 0 ? 'follower' : 'leader') as Role },
      ]);
      this.queue = pairs.filter((_, i) => i % 2 === 0).concat(pairs.filter((_, i) => i % 2 === 1));
    }
    return this.queue.shift()!;
  }
}

export async function membershipFault(
  m: MembershipContext,
  rec: FaultRecord,
  plan: { variant: MembershipVariant; role: Role },
): Promise<void> {
  const c = m.cluster;
  const size = c.originalSize;
  rec.startMs = m.now();
  // Removing a member while another one is down could leave no majority: skip (this follows a
  // kill whose node has not come back yet, rarely).
  const ids = c.ids;
  const answers = await Promise.all(ids.map((i) => c.status(i, 1_000)));
  const silent = ids.filter((_, k) => answers[k] === undefined);
  if (silent.length > 0) {
    rec.variant = 'skipped';
    rec.label = `membership: skipped (node ${silent.join(', ')} not answering)`;
    return;
  }
  try {
    if (c.ids.length < size) {
      // An earlier join failed: add a node back before removing any.
      rec.variant = 'restore';
      const y = c.newId();
      rec.nodes = [y];
      rec.label = `membership: add fresh node ${y} (${c.ids.length} members, started with ${size})`;
      await addNode(m, y, rec);
    } else if (c.ids.length > size) {
      // An earlier add-then-remove added but did not remove: remove one now.
      const x = await pickTarget(c, m.rng, plan.role);
      rec.variant = `shrink ${x.role}`;
      rec.nodes = [x.id];
      rec.label = `membership: remove ${x.role} node ${x.id} (${c.ids.length} members, started with ${size})`;
      await removeNode(m, x.id, rec);
    } else if (plan.variant === 'add-then-remove') {
      rec.variant = plan.variant;
      const y = c.newId();
      rec.nodes = [y];
      rec.label = `membership: add fresh node ${y}, then remove a ${plan.role}`;
      await addNode(m, y, rec);
      await m.hold(); // one voter more
      const x = await pickTarget(c, m.rng, plan.role, [y]);
      rec.variant = `${plan.variant} ${x.role}`;
      rec.nodes = [y, x.id];
      rec.label = `membership: add fresh node ${y}, then remove ${x.role} node ${x.id}`;
      await removeNode(m, x.id, rec);
    } else {
      const x = await pickTarget(c, m.rng, plan.role);
      rec.variant = `${plan.variant} ${x.role}`;
      const y = plan.variant === 'replace' ? x.id : c.newId();
      rec.nodes = y === x.id ? [x.id] : [x.id, y];
      rec.label =
        y === x.id
          ? `membership: remove ${x.role} node ${x.id}, then add it back (fresh, same id)`
          : `membership: remove ${x.role} node ${x.id}, then add fresh node ${y}`;
      await removeNode(m, x.id, rec);
      await m.hold(); // one voter short
      await addNode(m, y, rec);
    }
  } finally {
    rec.note = (rec.events ?? []).map((e) => e.what).join('; ');
  }
}

/** The leader (or, if none answers, some member) or a random follower, other than `exclude`. */
async function pickTarget(
  c: ChaosCluster,
  rng: Rng,
  role: Role,
  exclude: number[] = [],
): Promise<{ id: number; role: string }> {
  const leader = await c.leader();
  const candidates = c.ids.filter((i) => !exclude.includes(i));
  if (role === 'leader' && leader !== undefined && candidates.includes(leader)) return { id: leader, role };
  const followers = candidates.filter((i) => i !== leader);
  if (followers.length > 0)
    return { id: rng.pick(followers), role: leader === undefined ? 'node' : 'follower' };
  return { id: rng.pick(candidates), role: 'node' };
}

/** Records a step of the fault, with its time (the timeline marks it). */
function step(m: MembershipContext, rec: FaultRecord, what: string): void {
  (rec.events ??= []).push({ atMs: m.now(), what });
}

/**
 * Removes `id` through the leader, lets it serve a moment longer (clients may still reach it: what
 * they get is recorded like any other answer), stops it and, for good, forgets it.
 */
async function removeNode(m: MembershipContext, id: number, rec: FaultRecord): Promise<void> {
  const c = m.cluster;
  const quorum = Math.floor(c.originalSize / 2) + 1;
  if (c.ids.length - 1 < quorum)
    throw new Error(
      `refusing to remove node ${id}: ${c.ids.length} members, a majority of ${c.originalSize} is ${quorum}`,
    );
  const t0 = m.now();
  for (const what of await removeThroughLeader(c, id, CHANGE_TIMEOUT_MS)) step(m, rec, what);
  c.setMember(id, false);
  step(m, rec, `node ${id} removed in ${Math.round(m.now() - t0)} ms`);
  await sleep(m.rng.int(200, 1_000), m.signal);
  const node = c.node(id);
  const how = m.rng.chance(0.5) ? 'SIGKILL' : 'SIGTERM';
  if (how === 'SIGKILL') await node.kill();
  else await node.stop(5_000);
  step(m, rec, `node ${id} stopped (${how})`);
  c.retire(id);
}

/** Starts node `id` on an empty data dir with --join and waits until it is a caught-up voter. */
async function addNode(m: MembershipContext, id: number, rec: FaultRecord): Promise<number> {
  const c = m.cluster;
  const running = c.ids.filter((i) => c.node(i).running);
  const via = m.rng.pick(running.length > 0 ? running : c.ids);
  const t0 = m.now();
  const node = await c.startJoining(id, c.node(via).url);
  try {
    await waitPromoted(c, node, CHANGE_TIMEOUT_MS);
  } catch (err) {
    // Leave no half-joined node behind: stop it, take it out of the membership if it got in.
    await node.kill();
    const cleanup = await removeThroughLeader(c, id, 10_000).catch((e: Error) => [`cleanup: ${e.message}`]);
    c.retire(id);
    throw new Error(`node ${id} did not become a voter: ${(err as Error).message} (${cleanup.join('; ')})`);
  }
  c.setMember(id, true);
  step(m, rec, `node ${id} joined via node ${via}, a voter and caught up in ${Math.round(m.now() - t0)} ms`);
  return id;
}

/** Polls until `node` is a voter, follows the leader and has applied its commit index. */
async function waitPromoted(c: ChaosCluster, node: NodeProcess, timeoutMs: number): Promise<void> {
  const id = node.spec.id;
  const deadline = Date.now() + timeoutMs;
  let last = 'no leader answered';
  for (;;) {
    // A node that exited (a refused join, a crash) will not get there: no use waiting.
    if (!node.running) throw new Error(`node ${id} exited (${JSON.stringify(node.lastExit)})`);
    const leader = await c.leaderStatus(1_000);
    const member = leader?.members.find((x) => x.id === id);
    if (leader)
      last = `leader ${leader.id} has it as ${member ? (member.voter ? 'a voter' : 'a learner') : 'no member'}`;
    if (leader && member?.voter) {
      const st = await node.status(1_000);
      if (st && st.leaderId === leader.id && st.appliedIndex >= leader.commitIndex) return;
      last += `, node ${id} applied ${st?.appliedIndex ?? '?'} of ${leader.commitIndex}`;
    }
    if (Date.now() > deadline) throw new Error(`not a caught-up voter after ${timeoutMs} ms: ${last}`);
    await sleep(100);
  }
}

interface Answer {
  status: number;
  body: { error?: string; message?: string; leaderUrl?: string | null };
}

async function del(url: string): Promise<Answer> {
  try {
    // Longer than the leader's hand-over (2 s) when it removes itself.
    const res = await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(8_000) });
    const body = (await res.json().catch(() => ({}))) as Answer['body'];
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, body: { message: (err as Error).message } };
  }
}

/**
 * DELETE /cluster/members/:id on the leader, following 409 not_leader (the leader removing itself
 * hands over first and points at the new leader) and retrying while another change is pending
 * or the answer is unknown (503, 504, no answer). "not a member" after an unknown answer means the
 * earlier attempt took effect. Returns what happened, for the fault's note.
 */
export async function removeThroughLeader(c: ChaosCluster, id: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const notes: string[] = [];
  let target: number | undefined;
  let unknown = false; // an earlier attempt may have taken effect
  let last = 'no leader';
  for (;;) {
    target ??= await c.leader(1_000);
    const url = target === undefined ? undefined : c.url(target);
    if (url !== undefined) {
      const a = await del(`${url}/cluster/members/${id}`);
      last = `node ${target}: ${a.status} ${a.body.error ?? ''} ${a.body.message ?? ''}`.trim();
      if (a.status === 200) return notes;
      if (a.status === 409 && a.body.error === 'not_a_member') {
        if (!unknown) throw new Error(`node ${id} is not a member (${last})`);
        notes.push(`an earlier DELETE of node ${id} took effect`);
        return notes;
      }
      if (a.status === 0 || (a.status >= 500 && a.status !== 503)) unknown = true;
      const next = a.status === 409 && a.body.leaderUrl ? c.idOfUrl(a.body.leaderUrl) : undefined;
      if (next !== undefined && next !== target) {
        if (target === id) notes.push(`node ${id} handed leadership to node ${next} before its removal`);
        target = next;
        continue;
      }
    }
    if (Date.now() > deadline)
      throw new Error(`removing node ${id}: gave up after ${timeoutMs} ms (${last})`);
    target = undefined;
    await sleep(100);
  }
}
