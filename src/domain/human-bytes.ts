// Sizes as people read them (1024-based, one decimal): pure, so workflows, activities and
// the CLI all print the same "1.5 GiB". Exact byte counts stay in results and --json.
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
