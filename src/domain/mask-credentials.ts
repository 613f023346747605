// Tools like to print their DSN: every text day2 logs or reports about a command passes here.

/** Masks `user:password@` in URLs and `password=…` pairs. */
export function redactCredentials(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1[REDACTED]@')
    .replace(/\b(password|passwd|pwd|secret|token)=([^\s&'"]+)/gi, '$1=[REDACTED]');
}
