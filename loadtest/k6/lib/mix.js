/*
 * The request mix: four user populations, each an exported function that k6 scenarios name as
 * their `exec` (and the locustfile's user classes mirror, task for task):
 *
 *   tfb_clients   the TechEmpower endpoints: /plaintext /json /db /queries /updates /fortunes
 *   item_readers  GET /api/items (a page, sometimes the next one) and GET /api/items/{id}
 *   item_writers  POST /api/items with an Idempotency-Key (some sent twice, as a client whose
 *                 response was lost would), then PATCH and DELETE some of the new items
 *   slow_callers  /sleep (an upstream call that holds only a greenlet) and /db/sleep (a slow
 *                 query that holds a pool connection)
 *
 * Every request carries a `name` tag with its route template, so item ids never become
 * separate series. The populations use disjoint endpoints, so per-endpoint numbers add up to
 * per-population ones in both tools.
 */
import http from 'k6/http';
import exec from 'k6/execution';
import { sleep } from 'k6';

import { expectBody, expectStatus, isRetryable, retryAfter } from './checks.js';
import {
  BASE_URL,
  QUERIES,
  REQUEST_TIMEOUT,
  RETRY_SHARE,
  SEED_ITEMS,
  SLOW_QUERY_MS,
  UPSTREAM_MS,
} from './config.js';
import { tagPhase } from './timeline.js';

/** Every endpoint of the mix; delayMs is the latency the endpoint is designed to have. */
export const ENDPOINTS = {
  plaintext: { population: 'tfb_clients', method: 'GET', name: '/plaintext', delayMs: 0 },
  json: { population: 'tfb_clients', method: 'GET', name: '/json', delayMs: 0 },
  db: { population: 'tfb_clients', method: 'GET', name: '/db', delayMs: 0 },
  queries: { population: 'tfb_clients', method: 'GET', name: '/queries', delayMs: 0 },
  updates: { population: 'tfb_clients', method: 'GET', name: '/updates', delayMs: 0 },
  fortunes: { population: 'tfb_clients', method: 'GET', name: '/fortunes', delayMs: 0 },
  listItems: { population: 'item_readers', method: 'GET', name: '/api/items', delayMs: 0 },
  getItem: { population: 'item_readers', method: 'GET', name: '/api/items/{id}', delayMs: 0 },
  createItem: { population: 'item_writers', method: 'POST', name: '/api/items', delayMs: 0 },
  updateItem: { population: 'item_writers', method: 'PATCH', name: '/api/items/{id}', delayMs: 0 },
  deleteItem: { population: 'item_writers', method: 'DELETE', name: '/api/items/{id}', delayMs: 0 },
  sleep: { population: 'slow_callers', method: 'GET', name: '/sleep', delayMs: UPSTREAM_MS },
  dbSleep: { population: 'slow_callers', method: 'GET', name: '/db/sleep', delayMs: SLOW_QUERY_MS },
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** Send one request of `endpoint` to `path` (the concrete URL path). */
function send(endpoint, path, body = null, headers = {}) {
  return http.request(endpoint.method, `${BASE_URL}${path}`, body, {
    headers,
    tags: { name: endpoint.name },
    timeout: REQUEST_TIMEOUT,
  });
}

/** Pick one of [weight, fn] at random, in proportion to the weights, and call it. */
function pick(choices, ...args) {
  const total = choices.reduce((sum, [weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [weight, fn] of choices) {
    roll -= weight;
    if (roll < 0) return fn(...args);
  }
  return choices[choices.length - 1][1](...args);
}

// ---------------------------------------------------------------- tfb_clients
function plaintext() {
  const res = send(ENDPOINTS.plaintext, '/plaintext');
  expectStatus(res, ENDPOINTS.plaintext, 200);
}

function json() {
  const res = send(ENDPOINTS.json, '/json');
  expectStatus(res, ENDPOINTS.json, 200) &&
    expectBody(res, ENDPOINTS.json, 'says hello', (body) => body.message === 'Hello, World!');
}

function db() {
  const res = send(ENDPOINTS.db, '/db');
  expectStatus(res, ENDPOINTS.db, 200);
}

function queries() {
  const res = send(ENDPOINTS.queries, `/queries?queries=${QUERIES}`);
  expectStatus(res, ENDPOINTS.queries, 200) &&
    expectBody(res, ENDPOINTS.queries, 'has every row', (rows) => rows.length === QUERIES);
}

function updates() {
  const res = send(ENDPOINTS.updates, `/updates?queries=${QUERIES}`);
  expectStatus(res, ENDPOINTS.updates, 200);
}

function fortunes() {
  const res = send(ENDPOINTS.fortunes, '/fortunes');
  expectStatus(res, ENDPOINTS.fortunes, 200);
}

const TFB = [
  [15, plaintext],
  [25, json],
  [25, db],
  [15, queries],
  [5, updates],
  [15, fortunes],
];

export function tfb_clients() {
  tagPhase();
  pick(TFB);
}

// ---------------------------------------------------------------- item_readers
function listItems() {
  const res = send(ENDPOINTS.listItems, '/api/items?limit=20');
  if (!expectStatus(res, ENDPOINTS.listItems, 200)) return;
  const cursor = res.json('next_cursor');
  if (cursor && Math.random() < 0.25) {
    const next = send(ENDPOINTS.listItems, `/api/items?limit=20&cursor=${cursor}`);
    expectStatus(next, ENDPOINTS.listItems, 200);
  }
}

function getItem(data) {
  const id = data.itemIds[Math.floor(Math.random() * data.itemIds.length)];
  const res = send(ENDPOINTS.getItem, `/api/items/${id}`);
  expectStatus(res, ENDPOINTS.getItem, 200);
}

const READS = [
  [40, listItems],
  [60, getItem],
];

export function item_readers(data) {
  tagPhase();
  pick(READS, data);
}

// ---------------------------------------------------------------- item_writers
function newItem() {
  return {
    name: `load test item ${exec.vu.idInTest}-${exec.vu.iterationInScenario}`,
    quantity: Math.floor(Math.random() * 100),
    price: (Math.random() * 100).toFixed(2),
  };
}

function postItem(body, key) {
  return send(ENDPOINTS.createItem, '/api/items', body, {
    ...JSON_HEADERS,
    'Idempotency-Key': key,
  });
}

/** Create an item as a careful client does; return its id, or null. */
function createItem() {
  const key = crypto.randomUUID();
  const body = JSON.stringify(newItem());
  let res = postItem(body, key);
  if (isRetryable(res)) {
    // Shed or lost: the same key makes the retry safe (200 if the first one got through).
    sleep(retryAfter(res));
    res = postItem(body, key);
  }
  if (!expectStatus(res, ENDPOINTS.createItem, [201, 200])) return null;
  const id = res.json('id');
  if (res.status === 201 && Math.random() < RETRY_SHARE) {
    const again = postItem(body, key); // as if the first response had been lost
    expectStatus(again, ENDPOINTS.createItem, 200) &&
      expectBody(again, ENDPOINTS.createItem, 'retry returns the first item', (b) => b.id === id);
  }
  return id;
}

export function item_writers() {
  tagPhase();
  const id = createItem();
  if (id === null) return;
  if (Math.random() < 0.5) {
    const patch = JSON.stringify({ quantity: Math.floor(Math.random() * 100) });
    const res = send(ENDPOINTS.updateItem, `/api/items/${id}`, patch, JSON_HEADERS);
    expectStatus(res, ENDPOINTS.updateItem, 200);
  }
  if (Math.random() < 0.5) {
    const res = send(ENDPOINTS.deleteItem, `/api/items/${id}`);
    expectStatus(res, ENDPOINTS.deleteItem, 204);
  }
}

// ---------------------------------------------------------------- slow_callers
function upstreamCall() {
  const res = send(ENDPOINTS.sleep, `/sleep?ms=${UPSTREAM_MS}`);
  expectStatus(res, ENDPOINTS.sleep, 200);
}

function slowQuery() {
  const res = send(ENDPOINTS.dbSleep, `/db/sleep?ms=${SLOW_QUERY_MS}`);
  expectStatus(res, ENDPOINTS.dbSleep, 200);
}

const SLOW = [
  [50, upstreamCall],
  [50, slowQuery],
];

export function slow_callers() {
  tagPhase();
  pick(SLOW);
}

// ---------------------------------------------------------------- setup and teardown
const SETUP_TAGS = { tags: { name: 'setup' }, timeout: REQUEST_TIMEOUT };

/**
 * Check the API is ready and create the items the readers read. Returns their ids, and the
 * time the scenarios start (right after setup), which the report aligns the phases with.
 */
export function setup() {
  const ready = http.get(`${BASE_URL}/readyz`, SETUP_TAGS);
  if (ready.status !== 200) {
    exec.test.abort(`the API at ${BASE_URL} is not ready (GET /readyz: ${ready.status})`);
  }
  const itemIds = [];
  for (let i = 0; i < SEED_ITEMS; i++) {
    const body = JSON.stringify({ name: `load test seed ${i}`, quantity: i, price: '1.00' });
    const res = http.post(`${BASE_URL}/api/items`, body, { ...SETUP_TAGS, headers: JSON_HEADERS });
    if (res.status !== 201) exec.test.abort(`POST /api/items in setup: ${res.status} ${res.body}`);
    itemIds.push(res.json('id'));
  }
  return { itemIds, startedAt: Date.now() };
}

/** Delete the seed items again, so repeated runs do not grow the table with them. */
export function teardown(data) {
  for (const id of data.itemIds) {
    http.del(`${BASE_URL}/api/items/${id}`, null, SETUP_TAGS);
  }
}
