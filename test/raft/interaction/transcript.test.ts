// The transcript format itself: what a run writes back is the file when nothing changed, and a
// different output is a different text (so a changed behaviour cannot pass unnoticed).
import { describe, expect, it } from 'vitest';
import { InteractionEnv } from './env.js';
import { parseTranscript, renderTranscript } from './transcript.js';

const text = `# a comment

add-nodes 3 lazy-commit=true
----
ok

# two blank lines follow


status 1
----
n1 follower term=0 vote=0 leader=0 commit=0 applied=0 last=0 voters=(1,2,3)
`;

describe('transcript format', () => {
  it('parses commands, positional and key=value arguments, and the expected output', () => {
    const ds = parseTranscript(text);
    expect(ds.map((d) => [d.name, d.args, [...d.options], d.expected.length, d.lineNumber])).toEqual([
      ['add-nodes', ['3'], [['lazy-commit', 'true']], 1, 3],
      ['status', ['1'], [], 1, 10],
    ]);
  });

  it('renders the same text back when every output is as expected', () => {
    const ds = parseTranscript(text);
    expect(
      renderTranscript(
        ds,
        ds.map((d) => d.expected),
      ),
    ).toBe(text);
  });

  it('a run reproduces this transcript, and any other output changes the text', () => {
    const ds = parseTranscript(text);
    const env = new InteractionEnv();
    const outputs = ds.map((d) => env.run(d));
    expect(renderTranscript(ds, outputs)).toBe(text);
    outputs[1] = ['n1 leader'];
    expect(renderTranscript(ds, outputs)).not.toBe(text);
  });

  it('prints refusals, and fails on unknown commands', () => {
    const env = new InteractionEnv();
    for (const d of parseTranscript('add-nodes 3\n----\n\npropose-conf-change 2 remove 3\n----\n'))
      env.run(d);
    const [propose] = parseTranscript('propose-conf-change 1 remove 3\n----\n');
    expect(env.run(propose).at(-1)).toMatch(/^error: /);
    const [bogus] = parseTranscript('bogus 1\n----\n');
    expect(() => env.run(bogus)).toThrow(/unknown command "bogus"/);
  });
});
