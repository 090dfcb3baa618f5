/*
 * Settings of every scenario, read from the environment: `k6 run -e RATE=200 …` or a plain
 * environment variable (make loadtest SCENARIO=load RATE=200). docs/loadtesting.md lists them.
 *
 * Rates are total iterations per second across the four populations; each population gets its
 * MIX share. Durations use k6's syntax (30s, 2m, 1h30m).
 */

/** The value of an environment variable, or `fallback` when it is unset or empty. */
function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

/** A numeric environment variable; a typo fails the test at start instead of running nonsense. */
function envNumber(name, fallback) {
  const value = Number(env(name, fallback));
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a non-negative number, got "${__ENV[name]}"`);
  }
  return value;
}

/** Seconds in a k6 duration string such as "1m30s" or "500ms". */
export function seconds(duration) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const parts = String(duration).match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join('') !== String(duration)) {
    throw new Error(`not a duration: "${duration}" (use e.g. 30s, 2m, 1m30s)`);
  }
  return parts.reduce((total, part) => {
    const [, amount, unit] = part.match(/(\d+(?:\.\d+)?)(ms|s|m|h)/);
    return total + Number(amount) * units[unit];
  }, 0);
}

/** A duration environment variable, checked at start. */
function envDuration(name, fallback) {
  const value = env(name, fallback);
  seconds(value);
  return value;
}

// ---------------------------------------------------------------- Target
export const BASE_URL = env('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
// Every sample carries testid: the runner passes one per run; ad-hoc runs get the start time.
export const TESTID = env('TESTID', `adhoc-${new Date().toISOString().slice(0, 19)}`);

// ---------------------------------------------------------------- Request mix
// Share of the total rate per population (normalised, so any positive weights work).
export const MIX = normalise({
  tfb_clients: envNumber('MIX_TFB_CLIENTS', 40),
  item_readers: envNumber('MIX_ITEM_READERS', 30),
  item_writers: envNumber('MIX_ITEM_WRITERS', 15),
  slow_callers: envNumber('MIX_SLOW_CALLERS', 15),
});
export const UPSTREAM_MS = envNumber('UPSTREAM_MS', 50); // /sleep?ms=: a simulated upstream call
// /db/sleep?ms=: a slow query that holds a pool connection
export const SLOW_QUERY_MS = envNumber('SLOW_QUERY_MS', 50);
export const QUERIES = envNumber('QUERIES', 5); // /queries and /updates ?queries=
export const RETRY_SHARE = envNumber('RETRY_SHARE', 0.1); // writes a client sends twice (same key)
export const SEED_ITEMS = envNumber('SEED_ITEMS', 20); // items setup() creates for the readers
export const REQUEST_TIMEOUT = envDuration('REQUEST_TIMEOUT', '10s');
// VUs per population: an arrival-rate executor starts iterations on time while it has free
// VUs; past this cap it drops them (dropped_iterations), the sign the server can't keep up.
export const MAX_VUS = envNumber('MAX_VUS', 200);

// ---------------------------------------------------------------- Service level objective
// Latency budgets are on top of each endpoint's designed delay (UPSTREAM_MS, SLOW_QUERY_MS).
export const SLO = {
  p95Ms: envNumber('SLO_P95_MS', 250),
  p99Ms: envNumber('SLO_P99_MS', 750),
  errorRate: envNumber('SLO_ERROR_RATE', 0.01),
  checksRate: envNumber('SLO_CHECKS_RATE', 0.99),
  // spike only: the share of failed requests tolerated over the whole run, spike included
  spikeErrorRate: envNumber('SPIKE_ERROR_RATE', 0.05),
};

// ---------------------------------------------------------------- Scenario shapes
// The defaults are modest so that a first run on a laptop is harmless; raise them per run.
export const SMOKE = {
  rate: envNumber('RATE', 4),
  duration: envDuration('DURATION', '10s'),
};
export const LOAD = {
  rate: envNumber('RATE', 100), // the target rate held during the steady phase
  rampUp: envDuration('RAMP', '30s'),
  duration: envDuration('DURATION', '1m'),
  rampDown: envDuration('RAMP_DOWN', '10s'),
};
export const STRESS = {
  startRate: envNumber('START_RATE', 50),
  stepRate: envNumber('STEP_RATE', 50),
  steps: envNumber('STEPS', 8),
  stepDuration: envDuration('STEP_DURATION', '30s'), // each step holds its rate this long
  ramp: envDuration('RAMP', '5s'), // between steps, not judged
  // Stop the run once a step is far past the SLO (see stepThresholds in thresholds.js).
  abortP95Ms: envNumber(
    'STRESS_ABORT_P95_MS',
    2 * (SLO.p95Ms + Math.max(UPSTREAM_MS, SLOW_QUERY_MS)),
  ),
  abortErrorRate: envNumber('STRESS_ABORT_ERROR_RATE', 0.1),
};
export const SPIKE = {
  baseRate: envNumber('BASE_RATE', 20),
  rate: envNumber('RATE', 200), // the peak
  baseline: envDuration('BASELINE', '20s'),
  ramp: envDuration('RAMP', '5s'),
  duration: envDuration('DURATION', '20s'), // how long the peak holds
  recovery: envDuration('RECOVERY', '30s'),
};
export const SOAK = {
  rate: envNumber('RATE', 50),
  rampUp: envDuration('RAMP', '30s'),
  duration: envDuration('DURATION', '10m'), // bounded: raise it for a real soak (e.g. 2h)
};

function normalise(weights) {
  const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  if (total <= 0) throw new Error('at least one MIX_* weight must be positive');
  return Object.fromEntries(Object.entries(weights).map(([name, w]) => [name, w / total]));
}
