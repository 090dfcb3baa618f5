// Overload one replica, for the observability proof (testkit/overload.py).
//
// Three phases on one time axis: steady traffic, then an overload of replica A (more clients
// than its worker_connections, on slow endpoints, so connections queue in its listen backlog
// and its small database pool sheds), then steady traffic again so every signal can fall back.
// Meanwhile replica B's event loop is blocked on purpose (it runs without the cooperative
// psycopg2 wait callback). Every target is on 127.0.0.1; every scenario ends by itself.
import http from 'k6/http';
import { check } from 'k6';

const A = __ENV.A_URL;        // the replica to overload, hit directly
const B = __ENV.B_URL;        // the healthy replica, hit directly (blocking scenario)
const EDGE = __ENV.EDGE_URL;  // nginx, in front of replica B
const STEADY_S = Number(__ENV.STEADY_S || 10);
const OVERLOAD_S = Number(__ENV.OVERLOAD_S || 25);
const RECOVERY_S = Number(__ENV.RECOVERY_S || 15);
// Close every connection to A: an idle keep-alive connection would keep one of its few slots.
const CLOSE = { headers: { Connection: 'close' } };

export const options = {
  scenarios: {
    // Steady traffic for the whole run: through nginx, and straight to replica A.
    steady_users: {
      executor: 'constant-arrival-rate',
      exec: 'steady_users',
      rate: 20,
      timeUnit: '1s',
      duration: `${STEADY_S + OVERLOAD_S + RECOVERY_S}s`,
      preAllocatedVUs: 10,
      maxVUs: 30,
    },
    // Far more concurrent clients than replica A's worker_connections, on slow endpoints.
    overload_replica_a: {
      executor: 'constant-vus',
      exec: 'overload_replica_a',
      vus: Number(__ENV.OVERLOAD_VUS || 24),
      startTime: `${STEADY_S}s`,
      duration: `${OVERLOAD_S}s`,
      gracefulStop: '5s',
    },
    // A query that blocks replica B's event loop (no psycogreen wait callback there).
    blocking_queries_b: {
      executor: 'constant-arrival-rate',
      exec: 'blocking_queries_b',
      rate: 2,
      timeUnit: '1s',
      startTime: `${STEADY_S}s`,
      duration: `${Math.min(OVERLOAD_S, 10)}s`,
      preAllocatedVUs: 2,
      maxVUs: 4,
    },
  },
  // Shedding (503) and queueing are the point of this run, not failures of it.
  thresholds: {},
};

export function steady_users() {
  const pick = __ITER % 3;
  let response;
  if (pick === 0) response = http.get(`${EDGE}/json`, { tags: { name: '/json' } });
  else if (pick === 1) response = http.get(`${EDGE}/db`, { tags: { name: '/db' } });
  else response = http.get(`${A}/db`, { ...CLOSE, tags: { name: '/db' } });
  check(response, { 'status is 200': (r) => r.status === 200 });
}

export function overload_replica_a() {
  if (__ITER % 2 === 0) {
    http.get(`${A}/sleep?ms=600`, { ...CLOSE, tags: { name: '/sleep' } });
  } else {
    http.get(`${A}/db/sleep?ms=400`, { ...CLOSE, tags: { name: '/db/sleep' } });
  }
}

export function blocking_queries_b() {
  http.get(`${B}/db/sleep?ms=250`, { ...CLOSE, tags: { name: '/db/sleep' } });
}
