// Scenario transcripts: each test/raft/testdata/*.txt is a script of commands with the full output
// each one printed (see interaction/env.ts for the commands). A change in the core's behaviour
// shows up as a diff of that output, to be read and either fixed or accepted with
//   REWRITE=1 npx vitest run test/raft/transcripts.test.ts
// which writes the actual output back into the files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InteractionEnv } from './interaction/env.js';
import { parseTranscript, renderTranscript } from './interaction/transcript.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const rewrite = process.env.REWRITE === '1';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('raft transcripts', () => {
  it('has transcripts to run', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, () => {
      const path = `${dir}${file}`;
      const text = readFileSync(path, 'utf8');
      const directives = parseTranscript(text);
      const env = new InteractionEnv();
      const actual = renderTranscript(
        directives,
        directives.map((d) => (d.name === '' ? [] : env.run(d))),
      );
      if (rewrite) writeFileSync(path, actual);
      else expect(actual).toBe(text);
    });
  }
});
