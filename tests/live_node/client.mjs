// A graphql-ws client (the npm package browsers and Node use) for the subscription tests.
// Usage: node client.mjs WS_URL TOKEN QUERY [VARIABLES_JSON]
// Prints one JSON line per event: {"event":"connected"}, {"event":"next","payload":...},
// {"event":"error","errors":...}, {"event":"closed","code":N}.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variables] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  // Reconnect through a server restart, quickly (tests restart a worker).
  retryAttempts: 1000,
  shouldRetry: () => true,
  retryWait: async () => new Promise((resolve) => setTimeout(resolve, 200)),
  on: {
    connected: () => print({ event: "connected" }),
    closed: (event) => print({ event: "closed", code: event?.code ?? null }),
  },
});

client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : undefined },
  {
    next: (payload) => print({ event: "next", payload }),
    error: (err) =>
      print({ event: "error", errors: Array.isArray(err) ? err : String(err?.message ?? err) }),
    complete: () => print({ event: "complete" }),
  },
);
