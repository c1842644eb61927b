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
