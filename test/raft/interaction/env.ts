// The interaction environment behind the transcripts (as etcd's rafttest.InteractionEnv): each
// command drives the simulated cluster of the scripted scenarios (sim/cluster.ts, fault-free
// network, invariants checked after every step) and prints what happened: the cluster's event
// lines (Readies handed out, persists, deliveries, proposals) and whatever the command reports.
import { ConfChangeType } from '../../../src/raft/confchange.js';
import { NotLeaderError, ProposalRejectedError } from '../../../src/raft/errors.js';
import { MessageType, Role, type Message, type NodeId } from '../../../src/raft/types.js';
import type { CoreConfig } from '../../../src/raft/config.js';
import type { Cluster } from '../sim/cluster.js';
import { bytesKey, describeMessage } from '../sim/messages.js';
import { deliverWhere, payloadOf, scriptedCluster } from '../sim/scripted.js';
import type { Directive } from './transcript.js';

type Handler = (d: Directive) => void;

export class InteractionEnv {
  private cluster: Cluster | undefined;
  /** With `log-level none`, cluster events are not printed (commands' own reports still are). */
  private logEvents = true;
  private out: string[] = [];
  private readonly handlers: Record<string, Handler> = {
    'log-level': (d) => this.logLevel(d),
    'add-nodes': (d) => this.addNodes(d),
    campaign: (d) => this.c.campaign(this.node(d, 0)),
    stabilize: () => this.c.settle(),
    tick: (d) => this.tick(d),
    'tick-settle': (d) => this.tickSettle(d),
    propose: (d) => this.propose(d),
    'propose-conf-change': (d) => this.proposeConfChange(d),
    'read-index': (d) => this.c.readIndex(this.node(d, 0), this.arg(d, 1)),
    'transfer-leadership': (d) => this.c.transferLeadership(this.node(d, 0), this.node(d, 1)),
    'flush-commit': (d) => this.c.flushCommitBroadcast(this.node(d, 0)),
    'process-ready': (d) => this.nodes(d).forEach((id) => this.c.processReady(id)),
    'ready-step': (d) => this.nodes(d).forEach((id) => this.c.readyStep(id)),
    drain: (d) => this.nodes(d).forEach((id) => this.c.drain(id)),
    'deliver-msgs': (d) => deliverWhere(this.c, this.messageFilter(d)),
    'drop-msgs': (d) => this.c.network.dropWhere(this.messageFilter(d)),
    'in-flight': (d) => this.inFlight(d),
    isolate: (d) => this.c.network.isolate(this.node(d, 0), this.c.ids),
    partition: (d) => this.c.network.partition(d.args.map(parseIds), this.c.ids),
    cut: (d) => this.c.network.cutBothWays(this.node(d, 0), this.node(d, 1)),
    heal: () => this.c.network.heal(),
    crash: (d) => this.nodes(d).forEach((id) => this.c.crash(id)),
    restart: (d) => this.nodes(d).forEach((id) => this.c.restart(id)),
    status: (d) => this.status(d),
    applied: (d) => this.applied(d),
    'read-states': (d) => this.readStates(d),
    'raft-log': (d) => this.raftLog(d),
  };

  /** Runs one directive and returns what it printed ("ok" when nothing). */
  run(d: Directive): string[] {
    const handler = this.handlers[d.name];
    if (!handler) throw new Error(`line ${d.lineNumber}: unknown command "${d.name}"`);
    this.out = [];
    try {
      handler(d);
    } catch (err) {
      // Refusals are answers a transcript may expect; anything else fails the test.
      if (!(err instanceof NotLeaderError || err instanceof ProposalRejectedError)) {
        if (err instanceof Error) err.message = `line ${d.lineNumber} (${d.line}): ${err.message}`;
        throw err;
      }
      this.print(`error: ${err.message}`);
    }
    return this.out.length > 0 ? this.out : ['ok'];
  }

  private get c(): Cluster {
    if (!this.cluster) throw new Error('no cluster yet: add-nodes first');
    return this.cluster;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  // ---- commands ------------------------------------------------------------------------------

  private logLevel(d: Directive): void {
    const level = this.arg(d, 0);
    if (level !== 'none' && level !== 'info') throw new Error(`log-level is none or info, not ${level}`);
    this.logEvents = level === 'info';
  }

  /** add-nodes <n> [pre-vote=] [check-quorum=] [max-entries=] [max-inflight=] [lazy-commit=] [bootstrap=] */
  private addNodes(d: Directive): void {
    if (this.cluster) throw new Error('add-nodes runs once per transcript');
    const config: Partial<CoreConfig> = {};
    const flag = (key: string) => (d.options.has(key) ? d.options.get(key) === 'true' : undefined);
    const int = (key: string) => (d.options.has(key) ? Number(d.options.get(key)) : undefined);
    if (flag('pre-vote') !== undefined) config.preVote = flag('pre-vote');
    if (flag('check-quorum') !== undefined) config.checkQuorum = flag('check-quorum');
    if (flag('lazy-commit') !== undefined) config.lazyCommitBroadcast = flag('lazy-commit');
    if (int('max-entries') !== undefined) config.maxEntriesPerMessage = int('max-entries');
    if (int('max-inflight') !== undefined) config.maxInflightMessages = int('max-inflight');
    this.cluster = scriptedCluster(Number(this.arg(d, 0)), config, { bootstrap: flag('bootstrap') });
    this.cluster.events.onEvent = (e) => {
      if (this.logEvents) this.print(e);
    };
  }

  /** tick [n] [nodes=1,2]: n ticks (default 1) of the given nodes (default: all up), no delivery. */
  private tick(d: Directive): void {
    const n = d.args.length > 0 ? Number(d.args[0]) : 1;
    const ids = d.options.has('nodes') ? parseIds(d.options.get('nodes')!) : undefined;
    for (let i = 0; i < n; i++) this.c.tick(ids);
  }

  /** tick-settle <n>: n rounds of a tick of every live node and a stabilize. */
  private tickSettle(d: Directive): void {
    const n = Number(this.arg(d, 0));
    for (let i = 0; i < n; i++) {
      this.c.tick();
      this.c.settle();
    }
  }

  /** propose <id> <payload...>: each payload a proposal of its own, in order. */
  private propose(d: Directive): void {
    const id = this.node(d, 0);
    for (const payload of d.args.slice(1)) this.c.propose(id, payload);
  }

  /** propose-conf-change <id> add-voter|add-learner|remove <node> */
  private proposeConfChange(d: Directive): void {
    const kinds: Record<string, ConfChangeType> = {
      'add-voter': ConfChangeType.AddVoter,
      'add-learner': ConfChangeType.AddLearner,
      remove: ConfChangeType.RemoveNode,
    };
    const type = kinds[this.arg(d, 1)];
    if (type === undefined) throw new Error(`unknown conf change ${this.arg(d, 1)}`);
    this.c.proposeConfChange(this.node(d, 0), { type, nodeId: this.node(d, 2), context: new Uint8Array(0) });
  }

  /** in-flight [from=] [to=] [type=]: the messages on the wire, oldest first. */
  private inFlight(d: Directive): void {
    const filter = this.messageFilter(d);
    const msgs = this.c.network.all().filter((f) => !f.transfer && filter(f.msg));
    for (const f of msgs) this.print(describeMessage(f.msg));
    if (msgs.length === 0) this.print('none');
  }

  /** status [ids]: one line per node, and a leader's view of each follower. */
  private status(d: Directive): void {
    for (const id of this.nodesOrAll(d)) {
      if (!this.c.isUp(id)) {
        this.print(`n${id} down`);
        continue;
      }
      const st = this.c.status(id);
      const conf = `voters=(${st.confState.voters.join(',')})${st.confState.learners.length ? ` learners=(${st.confState.learners.join(',')})` : ''}`;
      this.print(
        `n${id} ${st.role} term=${st.term} vote=${st.vote} leader=${st.leaderId} commit=${st.commitIndex} ` +
          `applied=${st.appliedIndex} last=${st.lastIndex} ${conf}` +
          (st.leadTransferee ? ` transferee=${st.leadTransferee}` : '') +
          (this.c.raft(id).commitBroadcastPending ? ' commit-not-broadcast' : ''),
      );
      if (st.role !== Role.Leader) continue;
      for (const [pid, p] of st.progress) {
        if (pid !== id) this.print(`  n${pid}: ${p.state} match=${p.matchIndex} next=${p.nextIndex}`);
      }
    }
  }

  /** applied [ids]: what each node's state machine has applied, payloads and membership changes. */
  private applied(d: Directive): void {
    for (const id of this.nodesOrAll(d)) {
      const n = this.c.node(id);
      const confs = n.confChanges.map((cc) => `${ConfChangeType[cc.type]}(${cc.nodeId})`);
      this.print(`n${id}: [${[...n.appliedPayloads, ...confs].join(' ')}]`);
    }
  }

  /** read-states [ids]: the read indexes each node was answered, as index/context. */
  private readStates(d: Directive): void {
    for (const id of this.nodesOrAll(d)) {
      const reads = this.c.node(id).readStates.map((r) => `${r.index}/${bytesKey(r.context)}`);
      this.print(`n${id}: [${reads.join(' ')}]`);
    }
  }

  /** raft-log <id>: the node's durable log, one entry a line. */
  private raftLog(d: Directive): void {
    const log = this.c.node(this.node(d, 0)).log;
    for (let i = log.snapshotIndex + 1; i <= log.lastIndex(); i++) {
      const e = log.entryAt(i);
      this.print(`${e.index}/t${e.term} ${e.type === 0 ? JSON.stringify(payloadOf(e)) : 'conf-change'}`);
    }
    if (log.lastIndex() === log.snapshotIndex) this.print('empty');
  }

  // ---- arguments -----------------------------------------------------------------------------

  private arg(d: Directive, i: number): string {
    const a = d.args[i];
    if (a === undefined) throw new Error(`line ${d.lineNumber}: ${d.name} needs argument ${i + 1}`);
    return a;
  }

  private node(d: Directive, i: number): NodeId {
    const id = Number(this.arg(d, i));
    if (!this.c.ids.includes(id)) throw new Error(`line ${d.lineNumber}: no node ${this.arg(d, i)}`);
    return id;
  }

  private nodes(d: Directive): NodeId[] {
    if (d.args.length === 0) throw new Error(`line ${d.lineNumber}: ${d.name} needs node ids`);
    return d.args.map((_, i) => this.node(d, i));
  }

  private nodesOrAll(d: Directive): NodeId[] {
    return d.args.length > 0 ? this.nodes(d) : this.c.ids;
  }

  /** from=, to=, type= (a MessageType name), ctx= (read context): every given one must match. */
  private messageFilter(d: Directive): (m: Message) => boolean {
    const from = d.options.get('from');
    const to = d.options.get('to');
    const typeName = d.options.get('type');
    const ctx = d.options.get('ctx');
    const type = typeName === undefined ? undefined : MessageType[typeName as keyof typeof MessageType];
    if (typeName !== undefined && type === undefined) throw new Error(`unknown message type ${typeName}`);
    return (m) =>
      (from === undefined || m.from === Number(from)) &&
      (to === undefined || m.to === Number(to)) &&
      (type === undefined || m.type === type) &&
      (ctx === undefined || bytesKey(m.context) === ctx);
  }
}

function parseIds(list: string): NodeId[] {
  return list.split(',').map(Number);
}
