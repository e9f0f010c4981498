/**
 * Progress for people on a terminal: one redrawn line with a bar, the phase, counts and the time left. When stderr is
 * not a terminal (logs, CI) it prints a plain line at most once a second instead, so logs stay readable.
 */
export interface ProgressUpdate {
  label: string;
  done: number;
  total: number;
  etaSeconds?: number | null;
}

export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s left` : `${s} s left`;
}

export function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export class ProgressLine {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  update(p: ProgressUpdate): void {
    const fraction = p.total > 0 ? p.done / p.total : 0;
    const eta = formatEta(p.etaSeconds);
    const text = `${p.label} ${p.done}/${p.total}${eta ? ` · ${eta}` : ''}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${progressBar(fraction)} ${Math.round(fraction * 100)}% ${text}`);
      this.drawn = true;
    } else if (Date.now() - this.last > 1000 || p.done === p.total) {
      this.last = Date.now();
      this.stream.write(`${text}\n`);
    }
  }

  /** Print a normal line (an epoch's metrics) without tearing the bar. */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** One epoch's metrics: "epoch 3  train loss 0.4123  valid loss 0.3987  valid accuracy 91.7%  (2.1 s)". */
export function epochLine(e: {
  epoch: number;
  trainLoss: number;
  validLoss: number;
  validAccuracy: number;
  seconds: number;
}): string {
  return `epoch ${e.epoch + 1}  train loss ${e.trainLoss.toFixed(4)}  valid loss ${e.validLoss.toFixed(4)}  valid accuracy ${(e.validAccuracy * 100).toFixed(1)}%  (${e.seconds.toFixed(1)} s)`;
}
