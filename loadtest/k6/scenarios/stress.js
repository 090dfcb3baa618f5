/*
 * Stress: step the arrival rate up (START_RATE, then STEP_RATE more per step, STEPS steps of
 * STEP_DURATION) until a step breaks the SLO. Each step is tagged phase=step_NN and judged on
 * its own; a step far past the SLO aborts the run. The knee, named in the report, is the
 * highest step that met the SLO with every step below it (loadtest/report/knee.py).
 *
 * k6 exits 99 when a step breaks, which is the expected end of a stress test: the runner
 * turns that into success when the knee is at least STRESS_MIN_RATE (see docs/loadtesting.md).
 */
import { STRESS } from '../lib/config.js';
import { populationScenarios } from '../lib/timeline.js';
import * as slo from '../lib/thresholds.js';

const steps = Array.from({ length: STRESS.steps }, (_, i) => ({
  phase: `step_${String(i + 1).padStart(2, '0')}`,
  rate: STRESS.startRate + i * STRESS.stepRate,
}));

export const options = {
  ...slo.COMMON_OPTIONS,
  // Before each step a short ramp (phase "ramp", never judged), then the step holds its rate.
  scenarios: populationScenarios(
    0,
    steps.flatMap((step) => [
      { phase: 'ramp', duration: STRESS.ramp, rate: step.rate },
      { phase: step.phase, duration: STRESS.stepDuration, rate: step.rate },
    ]),
  ),
  // Each step on its own: its error rate and every population's p95, plus the abort guards.
  thresholds: Object.assign({}, ...steps.map((step) => slo.stepThresholds(step.phase))),
};

// The populations (each scenario's exec), and setup/teardown of the seed items.
export { item_readers, item_writers, slow_callers, tfb_clients } from '../lib/mix.js';
export { setup, teardown } from '../lib/mix.js';
