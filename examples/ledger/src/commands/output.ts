// The CLI's two channels: short human lines on stderr, machine JSON on stdout.
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function emitJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
