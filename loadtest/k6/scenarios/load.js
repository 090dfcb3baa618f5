/*
 * Load: ramp the arrival rate up to the target (RATE iterations/s), hold it, ramp down. Does
 * the stack serve the expected traffic within the SLO? The arrival rate is open-model: k6
 * starts iterations on schedule whether or not earlier ones have finished, as real users do.
 */
import { LOAD } from '../lib/config.js';
import { populationScenarios } from '../lib/timeline.js';
import * as slo from '../lib/thresholds.js';

export const options = {
  ...slo.COMMON_OPTIONS,
  scenarios: populationScenarios(0, [
    // Warm up pools and keep-alive connections instead of hitting a cold stack at full rate.
    { phase: 'ramp_up', duration: LOAD.rampUp, rate: LOAD.rate },
    // The phase the test is about.
    { phase: 'steady', duration: LOAD.duration, rate: LOAD.rate },
    { phase: 'ramp_down', duration: LOAD.rampDown, rate: 0 },
  ]),
  // Expected traffic: errors within the error budget, every population and every endpoint
  // within its latency budget (lib/thresholds.js).
  thresholds: slo.sloThresholds(),
};

// The populations (each scenario's exec), and setup/teardown of the seed items.
export { item_readers, item_writers, slow_callers, tfb_clients } from '../lib/mix.js';
export { setup, teardown } from '../lib/mix.js';
