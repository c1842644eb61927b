import { z } from 'zod';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** $limit / $skip as every list accepts them. */
export const pageQuery = {
  $limit: z.coerce.number().int().min(0).max(MAX_PAGE).optional(),
  $skip: z.coerce.number().int().min(0).optional(),
};

export const booleanQuery = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true');

/**
 * The total of a list whose page rows carry it as `total_count` (one statement). A page past the
 * end has no row to carry it, so only then is it counted separately — never reported as 0.
 */
export async function pageTotal(rows: readonly unknown[], skip: number, count: () => Promise<unknown>): Promise<number> {
  if (rows.length) return Number((rows[0] as { total_count: unknown }).total_count);
  if (skip === 0) return 0;
  const result = (await count()) as { total?: unknown }[] | { total?: unknown };
  return Number((Array.isArray(result) ? result[0]?.total : result.total) ?? 0);
}
