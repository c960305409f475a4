import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { Client, cacheExchange, fetchExchange } from "urql";

import { connectionState } from "./connectionState";

const GRAPHQL_PATH = "/graphql";

function websocketUrl(): string {
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/** Waits 0.5 s, 1 s, 2 s, … up to 10 s (with jitter) between reconnection attempts. */
async function backoff(retries: number): Promise<void> {
  const delay = Math.min(10_000, 500 * 2 ** retries) * (0.75 + Math.random() / 2);
  await new Promise((resolve) => setTimeout(resolve, delay));
}

/** The WebSocket (graphql-transport-ws) client every subscription shares. */
export const wsClient: WsClient = createWsClient({
  url: websocketUrl(),
  lazy: true,
  keepAlive: 20_000,
  retryAttempts: Number.MAX_SAFE_INTEGER,
  retryWait: backoff,
  shouldRetry: () => true,
  on: {
    connecting: () => connectionState.set("connecting"),
    connected: () => connectionState.set("live"),
    // 1000 is graphql-ws closing an idle lazy connection; anything else is a drop it retries.
    closed: (event) =>
      connectionState.set((event as { code?: number } | null)?.code === 1000 ? "idle" : "offline"),
  },
});

/** Queries and mutations over HTTP; mutations invalidate cached queries by typename. */
export const client = new Client({
  url: GRAPHQL_PATH,
  exchanges: [cacheExchange, fetchExchange],
  requestPolicy: "cache-and-network",
  preferGetMethod: false,
});
