/** @module http/validate — zod validation at the edge, failing through the shared problem shape. */
import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import type { z } from 'zod'
import { type FieldError, ValidationError } from './errors.js'

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }))
}

/** `zValidator` that throws our ValidationError, so onError renders it like every other error. */
export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) throw new ValidationError(fieldErrors(result.error as unknown as z.ZodError))
  })
