// The nemesis: at seeded random times, one fault at a time —
//   kill:      kill -9 the leader or a follower, leave it down a while, start it again on its data;
//   restart:   a graceful restart (SIGTERM, wait for the exit, start again) of the leader or a follower;
//   pause:     SIGSTOP the leader or a follower for a while, then SIGCONT; or a slow CPU for a while
//              (the duty-cycled SIGSTOP/SIGCONT of loadtest/faults/pauser.ts);
//   partition: through the link proxies — isolate the leader, a minority/majority split, one-way
//              loss (the leader can receive but not send, or the reverse, or one directed link),
//              or added delay with jitter; 'stall' (packets dropped, TCP holds the data) or 'reset';
//   membership: remove the leader or a follower through the HTTP API and add it (or a fresh node)
//              back, or add a fresh node first and then remove one (membership.ts).
// With each node's data dir on a fault filesystem (src/launcher/fault-fs.ts), also:
//   powerloss:  SIGKILL the leader, a follower or every node, and drop what their disks had not
//               made durable; start them again after a while;
//   slow-disk:  fsync spikes of 100-500 ms on the leader or a follower for a while;
//   disk-full:  the leader's or a follower's disk refuses to grow for a while;
//   disk-error: fsync fails (EIO) on the leader or a follower: the node stops; its disk then loses
//               what it had not synced, and it starts again on what is left.
// Faults target the current members: membership faults change which nodes those are.
// Kinds are dealt in rounds: every enabled kind once per round, in a seeded shuffled order, so even
// a short run goes through each kind (and a long one has them in equal numbers). A membership
// fault is not started in the last seconds: the run's end cuts its hold short, not its join, which
// would keep the run going.
import type { FaultSpec } from '../../src/launcher/fault-fs.js';
import { DutyCyclePauser } from '../faults/pauser.js';
import type { ChaosCluster } from './chaos-cluster.js';
import { MembershipPlanner, membershipFault } from './membership.js';
import { sleep } from '../sleep.js';
import type { LinkRule } from './proxy.js';
import type { Rng } from './rng.js';

export const FAULT_KINDS = ['kill', 'restart', 'pause', 'partition', 'membership'] as const;
/** Kinds that need the fault filesystem (not in the default set: they need FUSE). */
export const DISK_FAULT_KINDS = ['powerloss', 'slow-disk', 'disk-full', 'disk-error'] as const;
export const ALL_FAULT_KINDS = [...FAULT_KINDS, ...DISK_FAULT_KINDS] as const;
export type FaultKind = (typeof ALL_FAULT_KINDS)[number];

/** A membership fault takes a few seconds (a removal, a process start, a join, a promotion). */
const MEMBERSHIP_LEAD_MS = 5_000;

export interface FaultRecord {
  kind: FaultKind;
  /** What exactly, e.g. "kill -9 leader node 2" or "partition: isolate leader node 1 (stall)". */
  label: string;
  startMs: number;
  /** When the fault was healed (the node back, resumed, the links healed). */
  endMs?: number;
  nodes: number[];
  /** What kind of fault within its kind, worth counting apart (membership: "replace leader"). */
  variant?: string;
  /** Steps inside the fault, e.g. "node 2 removed", "node 4 … a voter" (membership). */
  events?: Array<{ atMs: number; what: string }>;
  note?: string;
}

export interface NemesisOptions {
  cluster: ChaosCluster;
  rng: Rng;
  kinds: FaultKind[];
  now: () => number;
  /** Stop starting faults after this time (ms on `now`). */
  untilMs: number;
  /** Pause between faults, and a fault's length, in ms. */
  gapMs: [number, number];
  faultMs: [number, number];
  signal: AbortSignal;
  log: (m: string) => void;
}

export interface NemesisHandle {
  faults: FaultRecord[];
  done: Promise<void>;
}

export function startNemesis(o: NemesisOptions): NemesisHandle {
  const faults: FaultRecord[] = [];
  const c = o.cluster;
  const rng = o.rng;
  const planner = new MembershipPlanner(rng.fork(1));

  /** The leader (or, failing that, a random node) or a random follower. */
  const target = async (): Promise<{ id: number; role: string }> => {
    const leader = await c.leader();
    if (leader !== undefined && rng.chance(0.5)) return { id: leader, role: 'leader' };
    const ids = c.ids;
    const others = ids.filter((i) => i !== leader && c.node(i).running);
    if (others.length === 0) return { id: leader ?? ids[0], role: 'leader' };
    return { id: rng.pick(others), role: leader === undefined ? 'node' : 'follower' };
  };
  const hold = (): Promise<void> => sleep(rng.int(o.faultMs[0], o.faultMs[1]), o.signal);

  const kill = async (rec: FaultRecord): Promise<void> => {
    const t = await target();
    rec.nodes = [t.id];
    rec.label = `kill -9 ${t.role} node ${t.id}`;
    rec.startMs = o.now();
    await c.node(t.id).kill();
    await hold();
    c.restart(t.id);
    rec.note = `restarted as pid ${c.node(t.id).pid}`;
  };

  const restart = async (rec: FaultRecord): Promise<void> => {
    const t = await target();
    rec.nodes = [t.id];
    rec.label = `restart (SIGTERM) ${t.role} node ${t.id}`;
    rec.startMs = o.now();
    await c.node(t.id).stop(5_000);
    c.restart(t.id);
    rec.note = `restarted as pid ${c.node(t.id).pid}`;
  };

  const pause = async (rec: FaultRecord): Promise<void> => {
    const t = await target();
    rec.nodes = [t.id];
    const pid = c.node(t.id).pid;
    if (pid === undefined || !c.node(t.id).running) {
      rec.label = `pause: node ${t.id} not running`;
      rec.startMs = o.now();
      return;
    }
    if (rng.chance(0.25)) {
      const stopMs = rng.int(20, 80);
      const cycle = { stopMs, periodMs: stopMs + rng.int(20, 100) };
      rec.label = `slow CPU (SIGSTOP ${cycle.stopMs}ms of ${cycle.periodMs}ms) ${t.role} node ${t.id}`;
      rec.startMs = o.now();
      const pauser = await DutyCyclePauser.start(pid, cycle);
      try {
        await hold();
      } finally {
        const { cycles } = await pauser.stop();
        rec.note = `${cycles} pauses`;
      }
      return;
    }
    rec.label = `SIGSTOP ${t.role} node ${t.id}`;
    rec.startMs = o.now();
    c.pause(t.id);
    try {
      await hold();
    } finally {
      c.resume(pid);
    }
  };

  const partition = async (rec: FaultRecord): Promise<void> => {
    const leader = await c.leader();
    const ids = c.ids;
    const mode: 'stall' | 'reset' = rng.chance(0.7) ? 'stall' : 'reset';
    const block: LinkRule = { block: mode };
    const cut = (a: number[], b: number[], oneWay = false): void => {
      for (const x of a)
        for (const y of b) {
          c.proxies.setRule(x, y, block);
          if (!oneWay) c.proxies.setRule(y, x, block);
        }
    };
    const variant = rng.pick(['isolate-leader', 'split', 'one-way', 'delay'] as const);
    const lead = leader ?? rng.pick(ids);
    const rest = (xs: number[]): number[] => ids.filter((i) => !xs.includes(i));
    let label: string;
    switch (variant) {
      case 'isolate-leader': {
        cut([lead], rest([lead]));
        rec.nodes = [lead];
        label = `isolate ${leader === undefined ? '' : 'leader '}node ${lead} (${mode})`;
        break;
      }
      case 'split': {
        const minority = rng.shuffle(ids).slice(0, Math.floor((ids.length - 1) / 2));
        cut(minority, rest(minority));
        rec.nodes = minority;
        label = `split {${minority.join(',')}} | {${rest(minority).join(',')}} (${mode})`;
        break;
      }
      case 'one-way': {
        const how = rng.pick(['leader-cannot-send', 'leader-cannot-hear', 'one-link'] as const);
        if (how === 'leader-cannot-send') {
          cut([lead], rest([lead]), true);
          label = `one-way: node ${lead} (leader) cannot send (${mode})`;
        } else if (how === 'leader-cannot-hear') {
          cut(rest([lead]), [lead], true);
          label = `one-way: node ${lead} (leader) cannot hear the others (${mode})`;
        } else {
          const [a, b] = rng.shuffle(ids);
          cut([a], [b], true);
          label = `one-way: link ${a}→${b} drops (${mode})`;
        }
        rec.nodes = [lead];
        break;
      }
      case 'delay': {
        const who = rng.chance(0.5) ? [lead] : ids;
        const delayMs = rng.int(20, 200);
        const jitterMs = rng.int(0, 100);
        for (const x of ids)
          for (const y of ids) {
            if (x !== y && (who.includes(x) || who.includes(y)))
              c.proxies.setRule(x, y, { delayMs, jitterMs });
          }
        rec.nodes = who;
        label = `delay ${delayMs}ms +${jitterMs}ms jitter on the links of ${who.length === ids.length ? 'every node' : `node ${lead}`}`;
        break;
      }
    }
    rec.label = `partition: ${label}`;
    rec.startMs = o.now();
    try {
      await hold();
    } finally {
      c.proxies.healAll();
    }
  };

  const powerloss = async (rec: FaultRecord): Promise<void> => {
    const all = rng.chance(0.3);
    const ids = all ? c.ids.filter((id) => c.node(id).running) : [(await target()).id];
    rec.nodes = ids;
    rec.label = all ? `power loss of every node` : `power loss of node ${ids[0]}`;
    rec.startMs = o.now();
    await Promise.all(ids.map((id) => c.node(id).kill()));
    const lost = await Promise.all(ids.map((id) => c.disk(id).lose()));
    rec.note = `undone: ${lost.map((l) => `${l.bytesUndone}B/${l.opsUndone}ops`).join(' ')}`;
    await hold();
    for (const id of ids) c.restart(id);
  };

  /** Sets `spec` on one node's disk for the fault's hold, then clears it. */
  const diskFault = async (rec: FaultRecord, what: string, spec: FaultSpec): Promise<number> => {
    const t = await target();
    rec.nodes = [t.id];
    rec.label = `${what} on ${t.role} node ${t.id}`;
    rec.startMs = o.now();
    await c.disk(t.id).setFaults(spec);
    try {
      await hold();
    } finally {
      await c.disk(t.id).setFaults({});
    }
    return t.id;
  };

  const diskError = async (rec: FaultRecord): Promise<void> => {
    const id = await diskFault(rec, 'fsync EIO', { fsyncError: 'EIO' });
    const n = c.node(id);
    // The node stops on its next durable write; if it has not yet, it is stopped like one that had.
    rec.note = n.running ? 'still running at the end (no durable write came)' : `exited ${n.lastExit?.code}`;
    await n.kill();
    await c.disk(id).lose();
    c.restart(id);
  };

  const run = async (): Promise<void> => {
    let round: FaultKind[] = [];
    while (!o.signal.aborted) {
      await sleep(rng.int(o.gapMs[0], o.gapMs[1]), o.signal);
      if (o.signal.aborted || o.now() >= o.untilMs) break;
      if (round.length === 0) round = rng.shuffle(o.kinds);
      const late = o.untilMs - o.now() < MEMBERSHIP_LEAD_MS;
      const i = late ? round.findIndex((k) => k !== 'membership') : 0;
      if (i < 0) break;
      const [kind] = round.splice(i, 1);
      const rec: FaultRecord = { kind, label: kind, startMs: o.now(), nodes: [] };
      faults.push(rec);
      try {
        if (kind === 'kill') await kill(rec);
        else if (kind === 'restart') await restart(rec);
        else if (kind === 'pause') await pause(rec);
        else if (kind === 'partition') await partition(rec);
        else if (kind === 'powerloss') await powerloss(rec);
        else if (kind === 'slow-disk')
          await diskFault(rec, 'fsync spikes 100-500ms', {
            fsyncDelay: { spikeMs: [100, 500], spikeProbability: 0.3 },
          });
        else if (kind === 'disk-full') await diskFault(rec, 'disk full', { spaceBytes: 0 });
        else if (kind === 'disk-error') await diskError(rec);
        else
          await membershipFault({ cluster: c, rng, now: o.now, hold, signal: o.signal }, rec, planner.next());
      } catch (err) {
        const error = `error: ${err instanceof Error ? err.message : String(err)}`;
        rec.note = rec.note ? `${rec.note}; ${error}` : error;
      }
      rec.endMs = o.now();
      o.log(
        `fault ${faults.length}: ${rec.label} [${(rec.startMs / 1000).toFixed(1)}s–${(rec.endMs / 1000).toFixed(1)}s]${rec.note ? ` (${rec.note})` : ''}`,
      );
      // Let a restarted node come back before the next fault, so that a majority stays up (bounded).
      await waitRunning(c, 15_000, o.signal);
    }
  };
  return { faults, done: run() };
}

/** Waits (bounded) until every member answers /cluster/status. */
async function waitRunning(c: ChaosCluster, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted && Date.now() < deadline) {
    const all = await Promise.all(c.ids.map((id) => c.status(id, 500)));
    if (all.every((s) => s !== undefined)) return;
    await sleep(50, signal);
  }
}
