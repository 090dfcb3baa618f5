/*
 * Smoke: a few requests per second of the whole mix for a few seconds. Does every endpoint
 * answer as expected, within budget? Run it first, and after every deploy.
 */
import { SMOKE } from '../lib/config.js';
import { populationScenarios } from '../lib/timeline.js';
import * as slo from '../lib/thresholds.js';

export const options = {
  ...slo.COMMON_OPTIONS,
  // One steady phase: low enough that any failure is a bug, not saturation.
  scenarios: populationScenarios(SMOKE.rate, [
    { phase: 'steady', duration: SMOKE.duration, rate: SMOKE.rate },
  ]),
  // At this rate any failed request or check, or any budget missed, is a regression.
  thresholds: slo.sloThresholds(),
};

// The populations (each scenario's exec), and setup/teardown of the seed items.
export { item_readers, item_writers, slow_callers, tfb_clients } from '../lib/mix.js';
export { setup, teardown } from '../lib/mix.js';
