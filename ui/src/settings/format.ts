/** Dates as people read them (local time), with the exact UTC instant on hover via `title`. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const diff = Date.now() - date.getTime();
  const minutes = Math.round(diff / 60_000);
  if (diff >= 0 && minutes < 1) return 'just now';
  if (diff >= 0 && minutes < 60) return `${minutes} min ago`;
  if (diff >= 0 && minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function exact(iso: string | null | undefined): string | undefined {
  return iso ?? undefined;
}
