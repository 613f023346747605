/** Keeps a check's detail one readable line. */
export function shorten(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
