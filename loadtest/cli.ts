// `npm run loadtest -- …`: parse flags, run (or sweep), print the text report, write --json/--html.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HELP, parseCli } from './args.js';
import { runClusterLoad } from './faults/fault-run.js';
import { formatClusterJson, formatClusterText, renderClusterHtml } from './faults/report.js';
import { formatJsonReport } from './report-json.js';
import { renderHtmlReport } from './report-html.js';
import { formatTextReport } from './report-text.js';
import { runLoad } from './run.js';
import { formatSweepRow, renderSweepHtml, runSweep, SWEEP_HEADER } from './sweep.js';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCli(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\nRun with --help for the flags.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const log = args.quiet ? () => undefined : (m: string) => process.stderr.write(`loadtest: ${m}\n`);
  const load = { ...args.load, log };

  if (args.sweep) {
    process.stdout.write(`${SWEEP_HEADER}\n`);
    const result = await runSweep(load, args.sweep, (p) => process.stdout.write(`${formatSweepRow(p)}\n`));
    if (args.json)
      await save(args.json, JSON.stringify({ levels: result.levels, points: result.points }, null, 2));
    if (args.html) await save(args.html, renderSweepHtml(result, args.title));
    return 0;
  }

  if (args.cluster) {
    // Ctrl-C (or SIGTERM): stop the load, skip what is left, stop every node by PID, remove the data
    // dirs, then exit 130. A second Ctrl-C exits at once (the 'exit' handler still SIGKILLs the nodes).
    const abort = new AbortController();
    const onSignal = (): void => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('loadtest: interrupted; stopping the cluster (Ctrl-C again to exit at once)\n');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runClusterLoad({
        load,
        faults: args.cluster.faults,
        clusterSize: args.cluster.size,
        keepData: args.cluster.keepData,
        profileDir: args.cluster.profileDir,
        signal: abort.signal,
        log,
      });
      process.stdout.write(`${formatClusterText(result)}\n`);
      if (args.json) await save(args.json, formatClusterJson(result));
      if (args.html) await save(args.html, renderClusterHtml(result, args.title));
      if (result.interrupted) return 130;
      // Non-zero when an acknowledged write is missing: that is a bug in the service, and scripts should see it.
      return (result.verification?.missingTotal ?? 0) > 0 ? 3 : 0;
    } catch (err) {
      if (abort.signal.aborted) return 130;
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  const result = await runLoad(load);
  process.stdout.write(`${formatTextReport(result)}\n`);
  if (args.json) await save(args.json, formatJsonReport(result));
  if (args.html) await save(args.html, renderHtmlReport(result, args.title));
  return 0;
}

async function save(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  process.stderr.write(`loadtest: wrote ${file}\n`);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`loadtest: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
