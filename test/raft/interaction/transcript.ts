// The file format of data-driven transcripts, as in etcd's raft testdata (cockroachdb/datadriven):
//
//   # comments and blank lines, kept as they are
//   command arg key=value
//   ----
//   the output the command printed
//   (ends at a blank line)
//
// A run replaces each expected output with the actual one; the test compares the whole text, or
// writes it back when rewriting.

export interface Directive {
  /** Comment and blank lines before the command, verbatim. */
  preamble: string[];
  /** The command line, verbatim. */
  line: string;
  /** 1-based line number of the command, for error messages. */
  lineNumber: number;
  name: string;
  /** Positional arguments. */
  args: string[];
  /** key=value arguments. */
  options: Map<string, string>;
  expected: string[];
}

export function parseTranscript(text: string): Directive[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: Directive[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      continue;
    }
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after the command "${line}"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j] !== '') expected.push(lines[j++]);
    const [name, ...rest] = line.trim().split(/\s+/);
    const args: string[] = [];
    const options = new Map<string, string>();
    for (const token of rest) {
      const eq = token.indexOf('=');
      if (eq > 0) options.set(token.slice(0, eq), token.slice(eq + 1));
      else args.push(token);
    }
    out.push({ preamble, line, lineNumber: i + 1, name, args, options, expected });
    preamble = [];
    // The blank line that ends the output belongs to no one: rendering puts it back.
    i = j;
  }
  if (preamble.some((l) => l.trim() !== '')) {
    out.push({
      preamble,
      line: '',
      lineNumber: lines.length,
      name: '',
      args: [],
      options: new Map(),
      expected: [],
    });
  }
  return out;
}

/** The transcript with each directive's output replaced by `outputs[i]`. */
export function renderTranscript(directives: readonly Directive[], outputs: readonly string[][]): string {
  const parts: string[] = [];
  directives.forEach((d, i) => {
    parts.push(...d.preamble);
    if (d.name === '') return;
    parts.push(d.line, '----', ...outputs[i], '');
  });
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.join('\n') + '\n';
}
