import { onConnectionChange, type ConnectionState } from '../api';

/** Reactive mirror of the transport's connection state, for the banner and for retrying on reconnect. */
export const connection: ConnectionState = $state({
  status: 'connecting',
  detail: null,
  retryInSeconds: null,
  canReconnect: false,
});

onConnectionChange((next) => {
  Object.assign(connection, next);
});
