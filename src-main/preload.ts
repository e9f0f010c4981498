/**
 * Electron preload (sandboxed, context-isolated): exposes the typed StudioApi and nothing else.
 * Every request and event is validated here, at the boundary, with the shared contract.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  BRIDGE_GLOBAL,
  IPC_EVENT_CHANNEL,
  EventFrame,
  isEventName,
  parseEvent,
  parseParams,
  parseResult,
  type EventName,
  type EventPayload,
  type Method,
  type Params,
  type Result,
  type StudioApi,
} from '../src-shared/contract';

type Handler = (payload: unknown) => void;
const handlers = new Map<EventName, Set<Handler>>();

ipcRenderer.on(IPC_EVENT_CHANNEL, (_e: IpcRendererEvent, frame: unknown) => {
  const parsed = EventFrame.safeParse(frame);
  if (!parsed.success || !isEventName(parsed.data.event)) return;
  const name = parsed.data.event;
  const payload = parseEvent(name, parsed.data.payload);
  for (const h of handlers.get(name) ?? []) h(payload);
});

const api: StudioApi = {
  async invoke<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const checked = parseParams(method, params);
    const reply = (await ipcRenderer.invoke(`finetune:${method}`, checked)) as
      { ok: true; result: unknown } | { ok: false; error: string };
    if (!reply.ok) throw new Error(reply.error);
    return parseResult(method, reply.result);
  },
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    const set = handlers.get(event) ?? new Set<Handler>();
    handlers.set(event, set);
    set.add(handler as Handler);
    return () => set.delete(handler as Handler);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, api);
