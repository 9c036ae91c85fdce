// How many writes may hop when the leader changes mid-run depends on how many were already on their
// way to the old leader, which depends on the machine's speed. What must hold at any speed: once the
// loader has learned the new leader (the first redirected write came back), every write it starts
// goes straight there.
import { expect } from 'vitest';
import type { Recorder } from '../../loadtest/recorder.js';

/** Asserts that some writes hopped, and only ones started before the first hop was answered. */
export function expectHopsOnlyInFlight(rec: Recorder): { hopped: number; learnedAtMs: number } {
  const hopped: number[] = [];
  for (let i = 0; i < rec.count; i++) if (rec.hops[i] > 0) hopped.push(i);
  expect(hopped.length).toBeGreaterThan(0);
  const learnedAtMs = Math.min(...hopped.map((i) => rec.end[i]));
  const lateHops = hopped.filter((i) => rec.start[i] > learnedAtMs);
  expect(lateHops, 'writes started after the new leader was known, yet redirected').toEqual([]);
  return { hopped: hopped.length, learnedAtMs };
}
