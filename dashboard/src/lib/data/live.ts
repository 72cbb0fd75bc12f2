/**
 * The one websocket (graphql-transport-ws, the `graphql-ws` client) every live panel subscribes
 * over. A dropped socket is retried for ever with a short backoff, and graphql-ws sends every
 * active subscription again once it is back: each starts with the latest values, which the
 * panels merge by time, so nothing is re-fetched and nothing doubles.
 */

import { createClient, type Client } from "graphql-ws";
import { authHeaders } from "./graphql";

export type WsState = "connecting" | "connected" | "reconnecting";

/** Messages received per subscription (for the page's test hooks and the health panel). */
export type Counters = Record<string, number>;

export class Live {
  readonly counters: Counters = {};
  private client: Client;
  private everConnected = false;

  constructor(
    url: string,
    key: string | null,
    private readonly onState: (state: WsState) => void,
  ) {
    this.client = createClient({
      url,
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      // 0.25 s, 0.5 s, 1 s, … at most 4 s between attempts.
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(4000, 250 * 2 ** retries))),
      connectionParams: () => authHeaders(key),
      on: {
        connected: () => {
          this.everConnected = true;
          this.onState("connected");
        },
        closed: () => this.onState(this.everConnected ? "reconnecting" : "connecting"),
      },
    });
  }

  /**
   * Subscribe to `document`; `onData` gets each message's data. `name` counts the messages. The
   * returned function unsubscribes. A subscription ended by a close the client does not retry
   * (a server error code) is sent again a second later.
   */
  subscribe<T>(
    name: string,
    document: string,
    variables: Record<string, unknown>,
    onData: (data: T) => void,
    onError: (message: string) => void = () => {},
  ): () => void {
    this.counters[name] ??= 0;
    let active = true;
    let unsubscribe = () => {};
    const start = () => {
      unsubscribe = this.client.subscribe<T>(
        { query: document, variables },
        {
          next: (message) => {
            this.counters[name]++;
            if (message.errors?.length) onError(message.errors.map((e) => e.message).join("; "));
            if (message.data) onData(message.data as T);
          },
          error: (err) => {
            onError(describe(err));
            if (active && isCloseEvent(err)) setTimeout(() => active && start(), 1000);
          },
          complete: () => {},
        },
      );
    };
    start();
    return () => {
      active = false;
      unsubscribe();
    };
  }

  /** Drop the socket at once, as a network failure would (the client reconnects by itself). */
  drop(): void {
    this.client.terminate();
  }

  dispose(): void {
    void this.client.dispose();
  }
}

function isCloseEvent(err: unknown): err is CloseEvent {
  return !!err && typeof err === "object" && "code" in err && "reason" in err;
}

function describe(err: unknown): string {
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message ?? String(e)).join("; ");
  if (err instanceof Error) return err.message;
  if (isCloseEvent(err)) return `connection closed: ${err.reason || err.code}`;
  return String(err);
}
