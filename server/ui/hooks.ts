/** Preact hooks over the DDP connection: live documents, subscriptions, the page's route. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { DdpConnection, DdpError, Doc } from './ddp/ddp-connection.ts';

/** Repaints at most this often while data streams: calm enough to read, cheap on a busy queue. */
export const repaintIntervalMs = 250;

/**
 * Re-renders when the connection's documents or status change: the first change at the next
 * animation frame, then at most once per `repaintIntervalMs`, so a queue completing thousands
 * of jobs a second costs the page four repaints a second, never one per message.
 */
export function useConnection(connection: DdpConnection): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let frame: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastPaint = 0;
    const paint = () => {
      frame = undefined;
      lastPaint = performance.now();
      setVersion((value) => value + 1);
    };
    const unsubscribe = connection.onChange(() => {
      if (frame !== undefined || timer !== undefined) return;
      const wait = lastPaint + repaintIntervalMs - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(paint);
      else
        timer = setTimeout(() => {
          timer = undefined;
          frame = requestAnimationFrame(paint);
        }, wait);
    });
    return () => {
      unsubscribe();
      if (frame !== undefined) cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [connection]);
  return version;
}

export interface SubscriptionState {
  ready: boolean;
  error: DdpError | undefined;
}

/** Subscribes while the component is shown; `params` are compared by value. */
export function useSubscription(connection: DdpConnection, name: string, params: unknown[]): SubscriptionState {
  const key = JSON.stringify([name, params]);
  const [state, setState] = useState<SubscriptionState>({ ready: false, error: undefined });
  useEffect(() => {
    setState({ ready: false, error: undefined });
    return connection.subscribe(name, params, {
      onReady: () => setState({ ready: true, error: undefined }),
      onError: (error) => setState({ ready: false, error }),
      // Reconnected: the documents come again; until then the page must not say there are none.
      onReset: () => setState({ ready: false, error: undefined }),
    });
    // `key` stands for name and params.
  }, [connection, key]);
  return state;
}

/**
 * The documents of a collection, in an order of the caller's choosing. The same array until the
 * collection changes, so what is derived from it (charts, sums) is not made again when only
 * another collection changed.
 */
export function useDocuments(connection: DdpConnection, collection: string, order?: (a: Doc, b: Doc) => number): Doc[] {
  useConnection(connection);
  const version = connection.version(collection);
  return useMemo(() => {
    const docs = [...connection.documents(collection).values()];
    return order === undefined ? docs : docs.sort(order);
  }, [connection, collection, version, order]);
}

export interface Route {
  /** `#/jobs/abc` → ['jobs', 'abc'] */
  path: string[];
  /** `#/jobs?status=failed` → status=failed */
  query: URLSearchParams;
}

/** The page's place, from the part of the URL after `#`. */
export function useRoute(): Route {
  const read = (): Route => {
    const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
    return { path: path.split('/').filter(Boolean).map(decodeSegment), query: new URLSearchParams(query) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

/** A URL segment decoded, or as it is when it is not valid percent-encoding (a hand-typed URL). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Re-renders every `ms`, for relative times ("3 min ago") that must move on their own. */
export function useTicker(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
