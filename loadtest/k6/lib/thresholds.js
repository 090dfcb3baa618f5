/*
 * Thresholds (the SLO of lib/config.js) and the options every scenario shares.
 *
 * A latency budget is SLO_P95_MS / SLO_P99_MS on top of what an endpoint is designed to take
 * (/sleep?ms=50 may take 50 ms more than /json). Submetrics are keyed by the tags k6 puts on
 * every request: `name` (route template), `method`, `scenario` (the population) and our own
 * `phase` (lib/timeline.js).
 */
import { MIX, SLO, STRESS, TESTID } from './config.js';
import { ENDPOINTS } from './mix.js';

export const COMMON_OPTIONS = {
  // Every sample (and every Prometheus series the remote-write output makes) carries testid.
  tags: { testid: TESTID },
  // Without `url` (one value per item id), remote-write series stay bounded; `name` replaces it.
  systemTags: [
    'status',
    'method',
    'name',
    'group',
    'check',
    'scenario',
    'expected_response',
    'error_code',
  ],
  // count and p(99) too: the report and the per-endpoint table use them.
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

const populations = Object.keys(MIX).filter((population) => MIX[population] > 0);
const endpoints = Object.values(ENDPOINTS).filter((endpoint) => MIX[endpoint.population] > 0);

function populationDelayMs(population) {
  return Math.max(...endpoints.filter((e) => e.population === population).map((e) => e.delayMs));
}

/** The whole SLO over the whole run: the run, each population, each endpoint. */
export function sloThresholds() {
  return { ...runThresholds(), ...populationThresholds(), ...endpointThresholds() };
}

/** The whole run: few failed requests, few failed checks. */
export function runThresholds(errorRate = SLO.errorRate) {
  return {
    http_req_failed: [`rate<${errorRate}`],
    checks: [`rate>${SLO.checksRate}`],
  };
}

/** p95 and p99 of every endpoint of the mix, each against its own budget. */
export function endpointThresholds() {
  const thresholds = {};
  for (const e of endpoints) {
    thresholds[`http_req_duration{method:${e.method},name:${e.name}}`] = [
      `p(95)<${SLO.p95Ms + e.delayMs}`,
      `p(99)<${SLO.p99Ms + e.delayMs}`,
    ];
  }
  return thresholds;
}

/** Per population: p95 within its budget and the error rate below SLO_ERROR_RATE. */
export function populationThresholds(phase = null) {
  const within = phase ? `phase:${phase},` : '';
  const thresholds = {};
  for (const population of populations) {
    const budget = SLO.p95Ms + populationDelayMs(population);
    thresholds[`http_req_duration{${within}scenario:${population}}`] = [`p(95)<${budget}`];
    thresholds[`http_req_failed{${within}scenario:${population}}`] = [`rate<${SLO.errorRate}`];
  }
  return thresholds;
}

/**
 * One stress step, judged on all of its requests: its error rate and each population's p95,
 * as the SLO says. Beside those, a coarse guard on the whole step aborts the test once a step
 * is clearly broken, so the steps above it do not pile up more load past the knee; it is
 * loose so that the few requests at the start of a step cannot stop the run by chance.
 */
export function stepThresholds(phase) {
  const thresholds = {
    [`http_req_failed{phase:${phase}}`]: [
      `rate<${SLO.errorRate}`,
      { threshold: `rate<${STRESS.abortErrorRate}`, abortOnFail: true },
    ],
    [`http_req_duration{phase:${phase}}`]: [
      { threshold: `p(95)<${STRESS.abortP95Ms}`, abortOnFail: true },
    ],
  };
  for (const population of populations) {
    const budget = SLO.p95Ms + populationDelayMs(population);
    thresholds[`http_req_duration{phase:${phase},scenario:${population}}`] = [`p(95)<${budget}`];
  }
  return thresholds;
}
