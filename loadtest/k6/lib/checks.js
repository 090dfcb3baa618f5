/*
 * Shared checks. Each check is named "<METHOD> <route template> <what>", so the summary lists
 * one line per endpoint and expectation, and carries the endpoint's `name` tag, so
 * checks{name:…} can be filtered like the request metrics.
 */
import { check } from 'k6';

/** Whether the response has the expected status (one of them, if a list). */
export function expectStatus(res, endpoint, expected) {
  const allowed = Array.isArray(expected) ? expected : [expected];
  return check(
    res,
    {
      [`${endpoint.method} ${endpoint.name} ${allowed.join('|')}`]: (r) =>
        allowed.includes(r.status),
    },
    { name: endpoint.name },
  );
}

/** Whether the JSON body satisfies `predicate`; `what` names the expectation. */
export function expectBody(res, endpoint, what, predicate) {
  return check(
    res,
    {
      [`${endpoint.method} ${endpoint.name} ${what}`]: (r) => {
        try {
          return predicate(r.json());
        } catch (error) {
          return false; // not JSON (an nginx error page, a timeout)
        }
      },
    },
    { name: endpoint.name },
  );
}

/** Seconds a shed request asks us to wait (Retry-After), at most `cap`. */
export function retryAfter(res, cap = 1) {
  const value = Number(res.headers['Retry-After']);
  return Number.isFinite(value) && value >= 0 ? Math.min(value, cap) : cap;
}

/** Whether a client should retry: no response at all, or the server shed the request. */
export function isRetryable(res) {
  return res.status === 0 || res.status === 502 || res.status === 503 || res.status === 504;
}
