// One line at the bottom of a terminal that is rewritten in place (the running step and
// its elapsed time, ticking). Only on a TTY: in a pipe or a log file it stays silent, so
// captured output holds just the permanent lines.
export class LiveLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream | undefined) {}

  get enabled(): boolean {
    return !!this.stream?.isTTY;
  }

  show(text: string): void {
    if (!this.enabled) return;
    const width = this.stream!.columns || 100;
    this.stream!.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
    this.shown = true;
  }

  /** Call before printing a permanent line. */
  clear(): void {
    if (!this.shown) return;
    this.stream!.write('\r\x1b[2K');
    this.shown = false;
  }
}
