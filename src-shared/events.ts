/**
 * The client side of pushed events, shared by both transports (the Electron preload and the WebSocket bridge): a
 * frame is checked against the contract before any subscriber sees it.
 */
import { EventFrame, isEventName, parseEvent, type EventName, type EventPayload } from './contract';

type RawHandler = (payload: unknown) => void;

export class EventSubscribers {
  private readonly handlers = new Map<EventName, Set<RawHandler>>();

  constructor(
    /** Told about invalid payloads and failing handlers (the renderer logs them); unknown events are dropped. */
    private readonly onError: (message: string, error: unknown) => void = () => undefined,
  ) {}

  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    const set = this.handlers.get(event) ?? new Set<RawHandler>();
    this.handlers.set(event, set);
    const raw = handler as RawHandler;
    set.add(raw);
    return () => {
      set.delete(raw);
    };
  }

  /** Hand a received frame to the event's subscribers, if it is a known event with a valid payload. */
  dispatch(frame: unknown): void {
    const parsed = EventFrame.safeParse(frame);
    if (!parsed.success || !isEventName(parsed.data.event)) return;
    const name = parsed.data.event;
    let payload: unknown;
    try {
      payload = parseEvent(name, parsed.data.payload);
    } catch (error) {
      this.onError(error instanceof Error ? error.message : String(error), error);
      return;
    }
    for (const handler of this.handlers.get(name) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        this.onError(`a handler for ${name} failed`, error);
      }
    }
  }
}
