/** Child process for the lock tests: takes HOME's instance lock (argv[2]), says "locked", holds it until SIGTERM. */
import { acquireHomeLock } from '../../src-main/core/homeLock';

acquireHomeLock(process.argv[2]!, 'lock-holder');
// Exiting runs the lock's exit handler, which removes it; SIGKILL does not (the stale case). The listener goes in
// before "locked" is printed: the test signals as soon as it reads it.
process.on('SIGTERM', () => process.exit(0));
process.stdout.write('locked\n');
setInterval(() => {}, 60_000);
