/*
 * A scenario's shape as a timeline of named phases, turned into one ramping-arrival-rate
 * scenario per population, and the `phase` tag that lets thresholds and the report judge each
 * phase on its own (a stress step, a spike's recovery).
 *
 * A timeline is a list of segments { phase, duration, rate }: over `duration` the total rate
 * moves linearly to `rate` (iterations/s, all populations together); a segment whose rate
 * equals the previous one holds it.
 */
import exec from 'k6/execution';

import { MAX_VUS, MIX, seconds } from './config.js';

// Rates are per minute so that a population's share of a small total stays exact
// (k6 arrival rates are integers per timeUnit).
const PER = 60;
// Expected seconds per iteration when sizing the VUs k6 allocates before the start.
const PREALLOCATE_SECONDS = 0.1;

/** One ramping-arrival-rate scenario per population, named after it, with a same-named exec. */
export function populationScenarios(startRate, timeline) {
  const windows = JSON.stringify(phaseWindows(timeline));
  const peak = Math.max(startRate, ...timeline.map((segment) => segment.rate));
  const scenarios = {};
  for (const [population, share] of Object.entries(MIX)) {
    if (share === 0) continue;
    scenarios[population] = {
      executor: 'ramping-arrival-rate',
      exec: population,
      startRate: Math.round(startRate * share * PER),
      timeUnit: `${PER}s`,
      stages: timeline.map((segment) => ({
        duration: segment.duration,
        target: Math.round(segment.rate * share * PER),
      })),
      preAllocatedVUs: Math.min(
        MAX_VUS,
        Math.max(2, Math.ceil(peak * share * PREALLOCATE_SECONDS)),
      ),
      maxVUs: MAX_VUS,
      gracefulStop: '10s', // in-flight iterations may finish; REQUEST_TIMEOUT bounds each request
      env: { PHASES: windows }, // read back by tagPhase()
    };
  }
  return scenarios;
}

/** [{ phase, start, end, rate }] in seconds from the scenario start; rate is the end rate. */
export function phaseWindows(timeline) {
  let start = 0;
  return timeline.map((segment) => {
    const end = start + seconds(segment.duration);
    const window = { phase: segment.phase, start, end, rate: segment.rate };
    start = end;
    return window;
  });
}

/** Total seconds of a timeline. */
export function timelineSeconds(timeline) {
  return timeline.reduce((total, segment) => total + seconds(segment.duration), 0);
}

const parsed = {}; // per scenario: a VU runs iterations of one scenario at a time

/** Tag everything the current iteration sends with the phase it started in. */
export function tagPhase() {
  const name = exec.scenario.name;
  if (!(name in parsed)) parsed[name] = JSON.parse(__ENV.PHASES || '[]');
  const elapsed = (Date.now() - exec.scenario.startTime) / 1000;
  const windows = parsed[name];
  // Past the end (an iteration due in the last milliseconds) still counts as the last phase.
  const current = windows.find((window) => elapsed < window.end) || windows[windows.length - 1];
  if (current) exec.vu.metrics.tags.phase = current.phase;
}
