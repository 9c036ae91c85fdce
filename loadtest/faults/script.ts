// The fault script of --faults: a comma-separated list of `<time>:<action>`, times since the start of
// the measured run, e.g. "5s:kill-follower,10s:restart,15s:kill-leader,20s:restart,25s:slow-leader,35s:slow-end".
// Parsed and checked before anything starts, so a typo never costs a cluster start-up.
import { formatGoDuration, parseDuration } from '../duration.js';
import { DEFAULT_DUTY_CYCLE, validateDutyCycle, type DutyCycle } from './pauser.js';

export type FaultAction =
  | { kind: 'kill'; target: 'leader' | 'follower' | number }
  | { kind: 'restart'; node?: number }
  | { kind: 'slow'; target: 'leader' | 'follower' | number; cycle: DutyCycle }
  | { kind: 'slow-end' };

export interface FaultEvent {
  /** ms since the run's t0. */
  atMs: number;
  action: FaultAction;
  /** The script item as written, for messages. */
  text: string;
}

export const FAULT_SCRIPT_HELP = `  <time>:<action>,… with times since the start of the measured run (5s, 1.5s, 800ms)
    kill-leader          kill -9 the node leading at that moment
    kill-follower        kill -9 a follower (the running one with the lowest id)
    kill-node=N          kill -9 node N
    restart[=N]          restart the killed nodes (or node N) on their data dirs, no --join
    slow-leader[=S/P]    slow CPU: SIGSTOP for S of every P, then SIGCONT (default ${DEFAULT_DUTY_CYCLE.stopMs}ms/${DEFAULT_DUTY_CYCLE.periodMs}ms)
    slow-follower[=S/P]  the same on a follower; slow-node=N[/S/P] on node N
    slow-end             end the slow CPU (the node is resumed)`;

const ACTIONS = [
  'kill-leader',
  'kill-follower',
  'kill-node=N',
  'restart',
  'restart=N',
  'slow-leader',
  'slow-follower',
  'slow-node=N',
  'slow-end',
];

/** Parses a script; throws an Error naming the item and what is wrong with it. */
export function parseFaultScript(script: string): FaultEvent[] {
  const items = script
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0)
    throw new Error('--faults: the script is empty; expected e.g. "5s:kill-leader,10s:restart"');
  const events = items.map((text, i) => parseItem(text, i + 1));
  // Stable: events at the same time run in the order written.
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i)
    .map(({ e }) => e);
}

function parseItem(text: string, n: number): FaultEvent {
  const where = `--faults item ${n} "${text}"`;
  const colon = text.indexOf(':');
  if (colon < 0) throw new Error(`${where}: expected <time>:<action>, e.g. 5s:kill-leader`);
  const timeText = text.slice(0, colon).trim();
  const actionText = text.slice(colon + 1).trim();
  let atMs: number;
  try {
    atMs = parseDuration(timeText);
  } catch {
    throw new Error(`${where}: invalid time "${timeText}" (use 5s, 1.5s, 800ms, 1m)`);
  }
  return { atMs, action: parseAction(actionText, where), text };
}

function parseAction(text: string, where: string): FaultAction {
  const [name, arg] = splitOnce(text, '=');
  const node = (): number => {
    if (arg === undefined || !/^[1-9]\d*$/.test(arg))
      throw new Error(`${where}: ${name} needs a node id, e.g. ${name}=2`);
    return Number(arg);
  };
  switch (name) {
    case 'kill-leader':
    case 'kill-follower':
      noArg(name, arg, where);
      return { kind: 'kill', target: name === 'kill-leader' ? 'leader' : 'follower' };
    case 'kill-node':
      return { kind: 'kill', target: node() };
    case 'restart':
      return arg === undefined ? { kind: 'restart' } : { kind: 'restart', node: node() };
    case 'slow-leader':
    case 'slow-follower':
      return {
        kind: 'slow',
        target: name === 'slow-leader' ? 'leader' : 'follower',
        cycle: arg === undefined ? { ...DEFAULT_DUTY_CYCLE } : parseCycle(arg, where),
      };
    case 'slow-node': {
      const [id, cycle] = splitOnce(arg ?? '', '/');
      if (!/^[1-9]\d*$/.test(id))
        throw new Error(`${where}: slow-node needs a node id, e.g. slow-node=2 or slow-node=2/20ms/100ms`);
      return {
        kind: 'slow',
        target: Number(id),
        cycle: cycle === undefined ? { ...DEFAULT_DUTY_CYCLE } : parseCycle(cycle, where),
      };
    }
    case 'slow-end':
      noArg(name, arg, where);
      return { kind: 'slow-end' };
    default:
      throw new Error(`${where}: unknown action "${text}"; expected one of ${ACTIONS.join(', ')}`);
  }
}

function parseCycle(text: string, where: string): DutyCycle {
  const parts = text.split('/');
  if (parts.length !== 2) throw new Error(`${where}: expected STOP/PERIOD after "=", e.g. 20ms/100ms`);
  const ms = (t: string): number => {
    const v = /^\d+(\.\d+)?$/.test(t.trim()) ? Number(t) : parseDurationOr(t, where);
    return v;
  };
  const cycle = { stopMs: ms(parts[0]), periodMs: ms(parts[1]) };
  try {
    validateDutyCycle(cycle);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  return cycle;
}

function parseDurationOr(text: string, where: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new Error(`${where}: invalid duration "${text}" in the duty cycle`);
  }
}

function noArg(name: string, arg: string | undefined, where: string): void {
  if (arg !== undefined) throw new Error(`${where}: ${name} takes no argument`);
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

/**
 * Checks the plan against the run: every fault inside the run, restarts only of killed nodes, at
 * least one node left running, one slow CPU at a time and every slow-end after a slow-*. Throws
 * with the item that is wrong.
 */
export function validateFaultPlan(
  events: FaultEvent[],
  run: { durationMs: number; clusterSize: number },
): void {
  // Nodes known to be down by id, and kills of "the leader"/"a follower" (whose id is known only then).
  const named = new Set<number>();
  let unnamed = 0;
  let slowSince: FaultEvent | undefined;
  for (const e of events) {
    const where = `--faults "${e.text}"`;
    if (e.atMs >= run.durationMs) {
      throw new Error(
        `${where}: at ${formatGoDuration(e.atMs)} it is not before the end of the run (--duration ${formatGoDuration(run.durationMs)})`,
      );
    }
    const a = e.action;
    const id = a.kind === 'restart' ? a.node : a.kind === 'kill' || a.kind === 'slow' ? a.target : undefined;
    if (typeof id === 'number' && id > run.clusterSize) {
      throw new Error(`${where}: there is no node ${id} in a ${run.clusterSize}-node cluster`);
    }
    const down = named.size + unnamed;
    switch (a.kind) {
      case 'kill':
        if (typeof a.target === 'number' && named.has(a.target)) {
          throw new Error(`${where}: node ${a.target} is already down`);
        }
        if (down + 1 >= run.clusterSize) {
          throw new Error(
            `${where}: that would leave no node running (${down} of ${run.clusterSize} already down)`,
          );
        }
        if (typeof a.target === 'number') named.add(a.target);
        else unnamed++;
        break;
      case 'restart':
        if (down === 0) throw new Error(`${where}: no node is down at that point`);
        if (a.node === undefined) {
          named.clear();
          unnamed = 0;
        } else if (named.has(a.node)) {
          named.delete(a.node);
        } else if (unnamed > 0) {
          unnamed--; // presumably the leader or follower killed earlier; checked when it runs
        } else {
          throw new Error(`${where}: node ${a.node} is not down at that point`);
        }
        break;
      case 'slow':
        if (slowSince) {
          throw new Error(
            `${where}: a slow CPU is already on since "${slowSince.text}"; end it with slow-end first`,
          );
        }
        slowSince = e;
        break;
      case 'slow-end':
        if (!slowSince)
          throw new Error(`${where}: no slow-leader/slow-follower/slow-node is on at that point`);
        slowSince = undefined;
        break;
    }
  }
}

/** One line per event, for the report. */
export function describeAction(a: FaultAction): string {
  const cyc = (c: DutyCycle): string =>
    `SIGSTOP ${formatGoDuration(c.stopMs)} of every ${formatGoDuration(c.periodMs)}`;
  const who = (t: 'leader' | 'follower' | number): string =>
    typeof t === 'number' ? `node ${t}` : `the ${t}`;
  switch (a.kind) {
    case 'kill':
      return `kill -9 ${who(a.target)}`;
    case 'restart':
      return a.node === undefined ? 'restart the killed nodes' : `restart node ${a.node}`;
    case 'slow':
      return `slow CPU on ${who(a.target)} (${cyc(a.cycle)})`;
    case 'slow-end':
      return 'end the slow CPU';
  }
}
