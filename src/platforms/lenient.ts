import { z } from 'zod';

/**
 * Field parsers for payloads the platforms send loosely: real tenants send null where the docs
 * show a string, numbers as strings and the other way round, and fields nobody documented. A
 * field we merely read is never a reason to drop a whole message; fields whose wrong value would
 * do harm (which message to answer, which chat) stay strict where they are declared.
 */
export const loose = {
  /** A string, a number read as its text, or undefined for anything else (null, objects, ""). */
  string: z
    .unknown()
    .transform((v): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined))
    .optional(),
  /** A number, a numeric string read as a number, or undefined. */
  number: z
    .unknown()
    .transform((v): number | undefined => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    })
    .optional(),
  /** A required, non-empty identifier (as a string, also when sent as a number). */
  id: z.union([z.string().min(1), z.number().transform(String)]),
};

/** An object whose shape we read leniently, or undefined when it is missing, null or not an object. */
export function looseObject<S extends z.ZodRawShape>(shape: S) {
  const inner = z.object(shape);
  return z
    .unknown()
    .transform((v, ctx): z.output<typeof inner> | undefined => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
      const r = inner.safeParse(v);
      if (r.success) return r.data;
      for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    })
    .optional();
}

/** An array whose items we read leniently: non-objects and nulls among them are skipped. */
export function looseArray<T extends z.ZodType>(item: T) {
  return z
    .unknown()
    .transform((v): NonNullable<z.output<T>>[] => {
      if (!Array.isArray(v)) return [];
      const out: NonNullable<z.output<T>>[] = [];
      for (const x of v) {
        const r = item.safeParse(x);
        if (r.success && r.data != null) out.push(r.data as NonNullable<z.output<T>>);
      }
      return out;
    })
    .optional()
    .transform((v) => v ?? []);
}

/** JSON text parsed, or undefined when it is not JSON. */
export function parseJsonText(s: unknown): unknown {
  if (typeof s !== 'string') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
