// Fault 7's load on the GraphQL server (tests/faults/test_graphql_load.py runs it with k6).
//   MODE=queries:     RATE requests/s of mixed queries (symbols, minute bars, rolling
//                     metrics, ripples with a limit) for DURATION_S seconds; an error is a
//                     status other than 200 or a body with "errors".
//   MODE=subscribers: SUBSCRIBERS websockets (graphql-transport-ws), each subscribed to the
//                     minute bars of one of SYMBOLS, for SUBSCRIBE_S seconds. Each update's
//                     delivery latency (now - its tNs: the test stamps records with the wall
//                     clock when it produces them) is a sample of "delivery_ms", tagged
//                     phase:before or phase:after BAD_AT_S seconds into the run (when the test
//                     attaches a subscriber that never reads and one that reads slowly).
// The summary (p50/p99 and counts) goes to the JSON file SUMMARY.
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';

const URL = __ENV.GRAPHQL_URL;
const MODE = __ENV.MODE;
const SYMBOLS = (__ENV.SYMBOLS || 'GOOG').split(',');
const DAY = __ENV.DAY || '2012-01-03';

const errors = new Counter('graphql_errors');
// The subscribers' errors by kind (each also counts in graphql_errors).
const errorKinds = {
  payload: new Counter('errors_payload'), // a "next" message with errors
  message: new Counter('errors_message'), // an "error" message
  socket: new Counter('errors_socket'), // the websocket failed
  closed: new Counter('errors_closed_early'), // closed before the subscriber's time
};
const subscriberError = (kind, detail) => {
  errors.add(1);
  errorKinds[kind].add(1);
  console.error(`subscriber ${exec.vu.idInTest}: ${kind} ${String(detail).slice(0, 300)}`);
};
const delivery = new Trend('delivery_ms', true);
const updates = new Counter('updates');
const subscribed = new Counter('subscribed');

const QUERIES = [
  () => ({ query: '{ symbols }' }),
  (s, h) => ({
    query: `query($s: String!, $a: DateTime!, $b: DateTime!) {
      bars(symbol: $s, timeframe: MINUTE_1, start: $a, end: $b) { tNs open high low close volume } }`,
    variables: { s, a: `${DAY}T${h}:00:00Z`, b: `${DAY}T${h}:59:00Z` },
  }),
  (s, h) => ({
    query: `query($s: String!, $a: DateTime!, $b: DateTime!) {
      ripples(symbol: $s, metric: ROLLING_5M, start: $a, end: $b) { tNs values } }`,
    variables: { s, a: `${DAY}T${h}:00:00Z`, b: `${DAY}T${h}:30:00Z` },
  }),
  (s) => ({
    query: `query($s: String!, $a: DateTime!, $b: DateTime!) {
      ripples(symbol: $s, metric: BAR_1M, start: $a, end: $b, limit: 10) { tNs metric } }`,
    variables: { s, a: `${DAY}T14:30:00Z`, b: `${DAY}T21:00:00Z` },
  }),
];

export const options =
  MODE === 'queries'
    ? {
        scenarios: {
          queries: {
            executor: 'constant-arrival-rate',
            exec: 'queries',
            rate: Number(__ENV.RATE || 500),
            timeUnit: '1s',
            duration: `${__ENV.DURATION_S || 60}s`,
            preAllocatedVUs: 100,
            maxVUs: 400,
          },
        },
        summaryTrendStats: ['p(50)', 'p(90)', 'p(99)', 'max', 'count'],
      }
    : {
        scenarios: {
          subscribers: {
            executor: 'per-vu-iterations',
            exec: 'subscriber',
            vus: Number(__ENV.SUBSCRIBERS || 1000),
            iterations: 1,
            maxDuration: `${Number(__ENV.SUBSCRIBE_S || 40) + 60}s`,
          },
        },
        // Thresholds that always hold, so the summary has each phase's figures.
        thresholds: {
          'delivery_ms{phase:before}': ['p(99)>=0'],
          'delivery_ms{phase:after}': ['p(99)>=0'],
        },
        summaryTrendStats: ['p(50)', 'p(90)', 'p(99)', 'max', 'count'],
      };

export function queries() {
  const n = exec.scenario.iterationInTest;
  const symbol = SYMBOLS[n % SYMBOLS.length];
  const hour = 14 + (n % 7);
  const body = QUERIES[n % QUERIES.length](symbol, hour);
  const response = http.post(URL, JSON.stringify(body), {
    headers: { 'Content-Type': 'application/json' },
    tags: { query: String(n % QUERIES.length) },
  });
  if (response.status !== 200 || !response.body || response.body.includes('"errors"')) {
    errors.add(1);
    if (n % 100 === 0) console.error(`${response.status} ${String(response.body).slice(0, 200)}`);
  }
}

const SUBSCRIPTION = `subscription($s: [String!]!) {
  ripples(symbols: $s, metrics: [BAR_1M]) { symbol tNs close: value(name: "close") } }`;

export function subscriber() {
  const symbol = SYMBOLS[(exec.vu.idInTest - 1) % SYMBOLS.length];
  const started = exec.scenario.startTime;
  const badAt = started + Number(__ENV.BAD_AT_S || 20) * 1000;
  const endAt = started + Number(__ENV.SUBSCRIBE_S || 40) * 1000;
  const ws = new WebSocket(URL.replace(/^http/, 'ws'), 'graphql-transport-ws');
  let first = true;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe',
        payload: { query: SUBSCRIPTION, variables: { s: [symbol] } } }));
      subscribed.add(1);
    } else if (message.type === 'next') {
      if (message.payload.errors) {
        subscriberError('payload', JSON.stringify(message.payload.errors));
        return;
      }
      if (first) {
        first = false; // the latest value the server had: not a live update
        return;
      }
      const now = Date.now();
      const t = Number(message.payload.data.ripples.tNs.slice(0, -6)); // ns -> ms
      delivery.add(now - t, { phase: now < badAt ? 'before' : 'after' });
      updates.add(1);
    } else if (message.type === 'error') {
      subscriberError('message', JSON.stringify(message.payload));
    }
  };
  let closing = false;
  // After the subscriber's own close, a write k6 makes for the connection (the pong to a ping
  // the server sent just then: its pings come every 20 s, the subscribers close at 40 s) fails
  // with "close sent": the client's race, not an error of the server.
  ws.onerror = (event) => {
    if (!closing) subscriberError('socket', event.error);
  };
  ws.onclose = (event) => {
    // closed early: the server dropped it
    if (Date.now() < endAt - 1000) subscriberError('closed', `code ${event.code} ${event.reason}`);
  };
  setTimeout(() => {
    closing = true;
    ws.close();
  }, Math.max(0, endAt - Date.now()));
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data.metrics) };
}
