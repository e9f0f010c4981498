/** A minimal client of the headless server's WebSocket bridge: numbered requests, every frame kept, events awaited. */
import WebSocket from 'ws';

export interface Frame {
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: string;
  /** A coded error's message (src-shared/messages). */
  message?: { code: string; params: Record<string, string | number> };
  event?: string;
  payload?: Record<string, unknown>;
}

/** Open the bridge; rejects with the HTTP status when the server refuses the upgrade (token, origin, host). */
export function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

export function bridgeClient(ws: WebSocket) {
  let id = 0;
  /** Every frame received, in order (answers and events). */
  const frames: Frame[] = [];
  const waiting = new Map<number, (f: Frame) => void>();
  const listeners = new Set<(f: Frame) => void>();
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as Frame;
    frames.push(f);
    if (f.id !== undefined) {
      waiting.get(f.id)?.(f);
      waiting.delete(f.id);
    } else for (const l of listeners) l(f);
  });
  const onEvent = (l: (f: Frame) => void): (() => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  return {
    frames,
    onEvent,
    call(method: string, params: unknown): Promise<Frame> {
      return new Promise<Frame>((resolve) => {
        const i = ++id;
        waiting.set(i, resolve);
        ws.send(JSON.stringify({ id: i, method, params }));
      });
    },
    waitEvent(name: string, pred: (p: Record<string, unknown>) => boolean = () => true, timeoutMs = 120_000) {
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${name} event`)), timeoutMs);
        const off = onEvent((f) => {
          if (f.event === name && pred(f.payload!)) {
            clearTimeout(timer);
            off();
            resolve(f.payload!);
          }
        });
      });
    },
  };
}
