/**
 * The WebSocket bridge of the headless server: each connection's frames in, the service's answers and events out.
 * Nothing a client sends can end the process or grow without bound: every socket has an error handler, a frame is
 * decoded without throwing, a connection has at most `maxInFlight` requests unanswered, long requests share one
 * bounded queue, and a client that stops reading (its unsent replies past `maxBuffered` bytes) is disconnected.
 */
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import {
  errorReply,
  isMethod,
  type EventFrame,
  type RequestFrame,
  type ResponseFrame,
} from '../../src-shared/contract';
import type { StudioService } from '../app/service';
import { LONG_METHODS, LongRequestQueue } from './longRequests';

export interface BridgeLimits {
  /** Requests one connection may have unanswered; more get a "busy" answer. */
  maxInFlight: number;
  /** Bytes of replies and events waiting to be sent to one client before it is disconnected. */
  maxBuffered: number;
  /** Long requests (scans, previews, estimates, evaluations) running at once, server-wide. */
  longConcurrency: number;
  /** Long requests waiting for a place, server-wide; more get a "busy" answer. */
  longWaiting: number;
}

export const BRIDGE_LIMITS: BridgeLimits = {
  maxInFlight: 8,
  maxBuffered: 8 << 20,
  longConcurrency: 2,
  longWaiting: 8,
};

/** The id of a reply to a frame whose own id could not be used (not JSON, no id, or not a whole number ≥ 0). */
export const NO_ID = -1;

type Checked = { ok: true; frame: RequestFrame } | { ok: false; id: number; error: string };

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A frame as the contract's RequestFrame, or the reason it is not one; never throws, whatever the bytes. */
export function checkFrame(data: RawData, isBinary: boolean): Checked {
  const bad = (error: string, id = NO_ID): Checked => ({ ok: false, id, error: `Malformed request frame: ${error}` });
  if (isBinary) return bad('binary frames are not accepted; send the request as JSON text');
  // The default binaryType gives one Buffer; toString replaces invalid UTF-8 (ws refuses it before this anyway).
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('expected a JSON object {"id", "method", "params"}');
  }
  const { id, method, params } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    return bad(
      `"id" must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${preview(id)} ` +
        `(so this reply carries id ${NO_ID})`,
    );
  }
  if (typeof method !== 'string') return bad(`"method" must be a string, got ${preview(method)}`, id);
  return { ok: true, frame: { id, method, params } };
}

/** Serves every connection `wss` accepts; returns the function that stops relaying events. */
export function serveBridge(wss: WebSocketServer, service: StudioService, limits: BridgeLimits): () => void {
  const longRequests = new LongRequestQueue(limits.longConcurrency, limits.longWaiting);

  // Never throws: it runs in promise callbacks and in the service's event emitter, where a throw would become an
  // unhandled rejection (which ends the process) or break the job that emitted.
  const send = (ws: WebSocket, frame: ResponseFrame | EventFrame) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.maxBuffered) {
      ws.terminate();
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (err) {
      if (!('id' in frame)) return;
      text = JSON.stringify({ id: frame.id, ok: false, error: `The answer could not be sent: ${String(err)}` });
    }
    ws.send(text, (err) => {
      // A write to a socket that is going away: its own 'close' does the cleanup.
      if (err) ws.terminate();
    });
  };

  const answer = async (frame: RequestFrame): Promise<unknown> => {
    const { method, params } = frame;
    if (isMethod(method) && LONG_METHODS.has(method)) {
      return longRequests.run(`${method}\n${JSON.stringify(params)}`, () => service.handle(method, params));
    }
    return service.handle(method, params);
  };

  wss.on('connection', (ws: WebSocket) => {
    let inFlight = 0;
    // ws reports a protocol violation (oversized frame, invalid UTF-8, bad opcode, unmasked frame) here after it
    // has sent the close frame; without a listener the 'error' would end the process.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const checked = checkFrame(data, isBinary);
      if (!checked.ok) {
        send(ws, { id: checked.id, ok: false, error: checked.error });
        return;
      }
      const { frame } = checked;
      if (inFlight >= limits.maxInFlight) {
        send(ws, {
          id: frame.id,
          ok: false,
          error: `Busy: ${inFlight} requests on this connection have not been answered yet; wait for one first.`,
        });
        return;
      }
      inFlight++;
      answer(frame)
        .then(
          (result) => send(ws, { id: frame.id, ok: true, result }),
          (err: unknown) => send(ws, { id: frame.id, ...errorReply(err) }),
        )
        .finally(() => inFlight--);
    });
  });

  return service.onEvent((event, payload) => {
    for (const ws of wss.clients) send(ws, { event, payload });
  });
}
