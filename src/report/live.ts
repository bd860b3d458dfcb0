import type { SetupProgress } from '../prosody/types.js';
import { formatCheckLine, formatPhaseHeader, formatStepLine } from './console.js';
import type { CheckStart, Reporter } from './reporter.js';
import type { CheckResult, Notice, PhaseResult, RunResults, StepResult } from './results.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The live view: phase by phase, check by check. In a terminal (`live`) a spinner shows the check
 * that runs; elsewhere (CI, pipes) plain lines, one per event.
 */
export class LiveReporter implements Reporter {
  private spinner: NodeJS.Timeout | undefined;

  constructor(private readonly o: { live: boolean; color: boolean; write: (s: string) => void }) {}

  /** Setup's slow work (an image build): one line that updates in a terminal, one line per stage elsewhere. */
  onProgress(p: SetupProgress): void {
    this.clear();
    const seconds = () => Math.round((Date.now() - p.startedAt) / 1000);
    if (p.done) return this.o.write(`  ${p.task}: done in ${seconds()} s\n`);
    if (!this.o.live) return this.o.write(`  ${p.task}: ${p.detail}\n`);
    // Cut to the terminal's width (a wrapped line would not be redrawn in place), keeping the time.
    const draw = () => {
      const time = ` (${seconds()} s)`;
      this.o.write(`\r\x1b[2K  ${`${p.task}: ${p.detail}`.slice(0, (process.stdout.columns || 80) - 3 - time.length)}${time}`);
    };
    draw();
    this.spinner = setInterval(draw, 1000);
    this.spinner.unref();
  }

  onSetup(results: RunResults): void {
    this.o.write(`  topology ready in ${Math.round(results.setupMs)} ms (${results.runtime} runtime)\n`);
  }

  onPhase(phase: PhaseResult, index: number, results: RunResults): void {
    this.clear();
    this.o.write(`${formatPhaseHeader(phase.name, index, results.summary.phases, { color: this.o.color })}\n`);
  }

  onStep(step: StepResult): void {
    this.clear();
    this.o.write(`${formatStepLine(step, { color: this.o.color })}\n`);
  }

  onCheckBegin(check: CheckStart): void {
    if (!this.o.live) return;
    let frame = 0;
    const draw = () => this.o.write(`\r\x1b[2K  ${SPINNER[frame++ % SPINNER.length]} ${check.id}  ${check.title}`);
    draw();
    this.spinner = setInterval(draw, 80);
    this.spinner.unref();
  }

  onCheckEnd(check: CheckResult): void {
    this.clear();
    this.o.write(`${formatCheckLine(check, { color: this.o.color })}\n`);
  }

  onEnd(): void {
    this.clear();
  }

  /** Over the spinner's line, which the next frame draws again. */
  onNotice(notice: Notice): void {
    this.o.write(`${this.o.live ? '\r\x1b[2K' : ''}  ! ${notice.text}\n`);
  }

  private clear(): void {
    if (this.spinner) clearInterval(this.spinner);
    this.spinner = undefined;
    if (this.o.live) this.o.write('\r\x1b[2K');
  }
}
