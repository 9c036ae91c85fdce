// The --faults script: what parses, what does not (with a message naming the item and the problem),
// the plan checks against the run, and the CLI flags around it.
import { describe, expect, it } from 'vitest';
import { HELP, parseCli } from '../../loadtest/args.js';
import { describeAction, parseFaultScript, validateFaultPlan } from '../../loadtest/faults/script.js';

describe('parseFaultScript', () => {
  it('parses the documented example, in time order, with default and explicit duty cycles', () => {
    const events = parseFaultScript(
      '5s:kill-follower,10s:restart, 15s:kill-leader ,20s:restart,25s:slow-leader,35s:slow-end',
    );
    expect(events.map((e) => [e.atMs, e.action])).toEqual([
      [5000, { kind: 'kill', target: 'follower' }],
      [10_000, { kind: 'restart' }],
      [15_000, { kind: 'kill', target: 'leader' }],
      [20_000, { kind: 'restart' }],
      [25_000, { kind: 'slow', target: 'leader', cycle: { stopMs: 20, periodMs: 100 } }],
      [35_000, { kind: 'slow-end' }],
    ]);
    const more = parseFaultScript(
      '3s:slow-node=2/30ms/200ms,1500ms:kill-node=3,4s:slow-end,2s:restart=3,5s:slow-follower=10/50,6s:slow-end',
    );
    expect(more.map((e) => e.atMs)).toEqual([1500, 2000, 3000, 4000, 5000, 6000]);
    expect(more[0].action).toEqual({ kind: 'kill', target: 3 });
    expect(more[1].action).toEqual({ kind: 'restart', node: 3 });
    expect(more[2].action).toEqual({ kind: 'slow', target: 2, cycle: { stopMs: 30, periodMs: 200 } });
    expect(more[4].action).toEqual({ kind: 'slow', target: 'follower', cycle: { stopMs: 10, periodMs: 50 } });
    expect(describeAction(more[2].action)).toBe('slow CPU on node 2 (SIGSTOP 30ms of every 200ms)');
  });

  it('keeps the written order of events at the same time', () => {
    const events = parseFaultScript('2s:slow-end,1s:slow-leader,2s:kill-leader');
    expect(events.map((e) => e.text)).toEqual(['1s:slow-leader', '2s:slow-end', '2s:kill-leader']);
  });

  it.each([
    ['', /the script is empty/],
    [' , ', /the script is empty/],
    ['kill-leader', /item 1 "kill-leader": expected <time>:<action>/],
    ['5s:kill-leader,ten:restart', /item 2 "ten:restart": invalid time "ten"/],
    ['5s:kill-the-leader', /unknown action "kill-the-leader"; expected one of kill-leader, kill-follower/],
    ['5s:kill-node', /kill-node needs a node id, e\.g\. kill-node=2/],
    ['5s:kill-node=0', /kill-node needs a node id/],
    ['5s:kill-leader=2', /kill-leader takes no argument/],
    ['5s:slow-leader=20', /expected STOP\/PERIOD after "=", e\.g\. 20ms\/100ms/],
    ['5s:slow-leader=100ms/20ms', /invalid duty cycle 100ms\/20ms: need 0 < stopped < period/],
    ['5s:slow-leader=0/100', /need 0 < stopped < period/],
    ['5s:slow-leader=20ms/xs', /invalid duration "xs" in the duty cycle/],
    ['5s:slow-node=x', /slow-node needs a node id/],
    ['5s:slow-end=1', /slow-end takes no argument/],
  ])('rejects %j', (script, message) => {
    expect(() => parseFaultScript(script)).toThrow(message);
  });
});

describe('validateFaultPlan', () => {
  const run = { durationMs: 10_000, clusterSize: 3 };
  const check =
    (script: string, r = run) =>
    () =>
      validateFaultPlan(parseFaultScript(script), r);

  it('accepts plans that keep a node running and restart only what is down', () => {
    expect(check('1s:kill-leader,2s:kill-follower,3s:restart,4s:kill-node=2,5s:restart=2')).not.toThrow();
    expect(check('1s:kill-leader,2s:restart=1')).not.toThrow(); // the leader may well be node 1
    expect(check('1s:slow-leader,2s:slow-end,3s:slow-follower,9.9s:slow-end')).not.toThrow();
  });

  it.each([
    ['10s:kill-leader', /"10s:kill-leader": at 10s it is not before the end of the run \(--duration 10s\)/],
    ['1s:restart', /"1s:restart": no node is down at that point/],
    ['1s:kill-node=2,2s:restart=3', /"2s:restart=3": node 3 is not down at that point/],
    ['1s:kill-node=2,2s:kill-node=2', /node 2 is already down/],
    [
      '1s:kill-leader,2s:kill-follower,3s:kill-follower',
      /would leave no node running \(2 of 3 already down\)/,
    ],
    ['1s:kill-node=4', /there is no node 4 in a 3-node cluster/],
    [
      '1s:slow-leader,2s:slow-follower',
      /a slow CPU is already on since "1s:slow-leader"; end it with slow-end first/,
    ],
    ['1s:slow-end', /no slow-leader\/slow-follower\/slow-node is on/],
  ])('rejects %j', (script, message) => {
    expect(check(script)).toThrow(message);
  });
});

describe('CLI flags for cluster runs', () => {
  it('--cluster --faults parses into a cluster run checked against --duration', () => {
    const args = parseCli([
      '--cluster',
      '--rate',
      '200',
      '--duration',
      '8s',
      '--faults',
      '3s:kill-leader,5s:restart',
    ]);
    expect(args.cluster?.size).toBe(3);
    expect(args.cluster?.keepData).toBe(false);
    expect(args.cluster?.faults.map((f) => f.text)).toEqual(['3s:kill-leader', '5s:restart']);
    expect(parseCli(['--cluster', '--cluster-size', '5', '--keep-data']).cluster).toEqual({
      size: 5,
      faults: [],
      keepData: true,
    });
    expect(parseCli(['--cluster', '--profile', '/tmp/prof']).cluster?.profileDir).toBe('/tmp/prof');
  });

  it.each([
    [['--faults', '1s:kill-leader'], /--faults needs --cluster/],
    [['--keep-data'], /--keep-data needs --cluster/],
    [['--profile', '/tmp/prof'], /--profile needs --cluster/],
    [['--cluster', '--nodes', 'http://127.0.0.1:1'], /cannot be combined with --nodes/],
    [['--cluster', '--max', '--faults', '1s:kill-leader'], /--faults needs the fixed-rate mode/],
    [['--cluster', '--faults', '12s:kill-leader'], /not before the end of the run \(--duration 10s\)/],
    [['--cluster', '--faults', '1s:explode'], /unknown action "explode"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(message);
  });

  it('--help explains the cluster flags and every fault action', () => {
    for (const word of [
      '--cluster',
      '--cluster-size',
      '--faults',
      '--keep-data',
      '--profile',
      'kill-leader',
      'kill-follower',
      'restart',
      'slow-leader',
      'slow-end',
      'SIGSTOP',
    ]) {
      expect(HELP).toContain(word);
    }
  });
});
