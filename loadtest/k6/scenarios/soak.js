/*
 * Soak: a moderate rate held for a long, bounded time (DURATION, 10m by default). Does
 * anything drift: latency creeping up, memory, connections or pool waits that never come
 * back down, workers recycled? Compare the start and the end of the report's plots.
 */
import { SOAK } from '../lib/config.js';
import { populationScenarios } from '../lib/timeline.js';
import * as slo from '../lib/thresholds.js';

export const options = {
  ...slo.COMMON_OPTIONS,
  scenarios: populationScenarios(0, [
    { phase: 'ramp_up', duration: SOAK.rampUp, rate: SOAK.rate },
    // The whole hold is judged: a slow drift shows in p99 before it shows in p95.
    { phase: 'steady', duration: SOAK.duration, rate: SOAK.rate },
  ]),
  // The same SLO as load, over the whole hold: drift shows as a late breach.
  thresholds: slo.sloThresholds(),
};

// The populations (each scenario's exec), and setup/teardown of the seed items.
export { item_readers, item_writers, slow_callers, tfb_clients } from '../lib/mix.js';
export { setup, teardown } from '../lib/mix.js';
