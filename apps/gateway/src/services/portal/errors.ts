import { DomainError } from "../../domain-errors.js";

/** A resource that does not exist, or that the actor may not see (tenancy answers 404). */
export class ResourceNotFoundError extends DomainError {
  constructor(readonly resource: string) {
    super(`No such ${resource}.`);
  }
}

/** The actor is known and may see the resource but their role does not allow this action. */
export class PermissionDeniedError extends DomainError {}

/** The resource already exists (email in use, alias taken) or the change would break a rule. */
export class ConflictError extends DomainError {}

/** A well-formed request the domain refuses (limit above the plan's, last owner leaving). */
export class RuleViolationError extends DomainError {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Wrong email or password; deliberately the same message for both. */
export class InvalidCredentialsError extends DomainError {
  constructor() {
    super("Wrong email or password.");
  }
}

/** Too many password attempts (sign-in per email and address, password change per user). */
export class LoginThrottledError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many password attempts. Try again in ${retryAfterSeconds} s.`);
  }
}
