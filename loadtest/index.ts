// The library surface, for `npm run bench` and fault-injection runs that drive load in-process.
export { runLoad, startLoad, type RunHandle, type RunResult } from './run.js';
export { defaultOptions, DEFAULT_NODES, type LoadOptions, type Marker, type ReadNodes } from './options.js';
export { formatTextReport, formatVegetaText } from './report-text.js';
export { formatJsonReport, toJsonReport, type JsonReport } from './report-json.js';
export { renderHtmlReport } from './report-html.js';
export {
  runSweep,
  formatSweepText,
  renderSweepHtml,
  parseSweep,
  type SweepResult,
  type SweepPoint,
} from './sweep.js';
export { summarize, timeline, type Summary, type TimelineBucket } from './summary.js';
export { parseDuration, formatGoDuration } from './duration.js';
export { startBareServer, type BareServer } from './bare-server-app.js';
export { runClusterLoad, type ClusterRunOptions, type ClusterRunResult } from './faults/fault-run.js';
export { parseFaultScript, validateFaultPlan, type FaultEvent } from './faults/script.js';
export { DutyCyclePauser, type DutyCycle } from './faults/pauser.js';
export { verifyAcked, type Verification } from './faults/verify.js';
export { formatClusterText, formatClusterJson, renderClusterHtml } from './faults/report.js';
