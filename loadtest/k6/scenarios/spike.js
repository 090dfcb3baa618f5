/*
 * Spike: a baseline rate, a sudden jump to RATE within RAMP, a hold, a drop back, and a
 * recovery period at the baseline. Does the stack absorb a burst (queueing, shedding with 503
 * rather than timing out) and, above all, recover afterwards?
 */
import { SLO, SPIKE } from '../lib/config.js';
import { populationScenarios } from '../lib/timeline.js';
import * as slo from '../lib/thresholds.js';

export const options = {
  ...slo.COMMON_OPTIONS,
  scenarios: populationScenarios(SPIKE.baseRate, [
    { phase: 'baseline', duration: SPIKE.baseline, rate: SPIKE.baseRate },
    { phase: 'surge', duration: SPIKE.ramp, rate: SPIKE.rate },
    { phase: 'spike', duration: SPIKE.duration, rate: SPIKE.rate },
    { phase: 'drop', duration: SPIKE.ramp, rate: SPIKE.baseRate },
    { phase: 'recovery', duration: SPIKE.recovery, rate: SPIKE.baseRate },
  ]),
  thresholds: {
    // During the spike some shedding is acceptable; over the whole run only a little.
    ...slo.runThresholds(SLO.spikeErrorRate),
    // After it, the stack must be back within the normal SLO: no lingering queues.
    ...slo.populationThresholds('recovery'),
  },
};

// The populations (each scenario's exec), and setup/teardown of the seed items.
export { item_readers, item_writers, slow_callers, tfb_clients } from '../lib/mix.js';
export { setup, teardown } from '../lib/mix.js';
