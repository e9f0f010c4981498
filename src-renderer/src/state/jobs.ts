import { errorMessage } from '../api';
import { t } from '../i18n/i18n.svelte';

/** A job of this window (a training run, an LR finder sweep) as far as cancelling goes. */
interface CancellableJob {
  state: string;
  error: string | null;
}

/**
 * Asks the server to cancel a running job: the job is 'cancelling' until its done event brings the final state; if
 * the request itself fails, it is 'running' again and the error says why.
 */
export async function requestCancel(job: CancellableJob, request: () => Promise<unknown>): Promise<void> {
  job.state = 'cancelling';
  try {
    await request();
  } catch (error) {
    if (job.state === 'cancelling') job.state = 'running';
    job.error = t('recipe:errors.cancelFailed', { error: errorMessage(error) });
  }
}
