/** Child process for tests: starts a run in the history given as argv[2], records one epoch, then dies. */
import { RunStore } from '../../src-main/core/history/runStore';

const store = new RunStore(process.argv[2]!);
const id = store.createRun({ dir: '/d', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
store.addEpoch(id, { step: 'head', epoch: 0, trainLoss: 1, validLoss: 1, validAccuracy: 0.3, lr: 1, seconds: 1 });
process.stdout.write(String(id));
process.kill(process.pid, 'SIGKILL');
