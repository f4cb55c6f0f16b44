import { newId } from "@portal/contracts";
import {
  and,
  type Database,
  eq,
  gt,
  isNull,
  memberships,
  organizations,
  portalSessions,
  type User,
  users,
} from "@portal/db";
import { ensurePlans } from "../bootstrap.js";
import { writeAudit } from "../portal/context.js";
import {
  ConflictError,
  InvalidCredentialsError,
  LoginThrottledError,
  RuleViolationError,
} from "../portal/errors.js";
import type { LoginThrottle } from "./login-throttle.js";
import { throttleKey } from "./login-throttle.js";
import type { OidcVerifier } from "./oidc.js";
import { dummyPasswordHash, hashPassword, verifyPassword } from "./passwords.js";
import type { SessionTokens } from "./session-tokens.js";

/** The signed-in portal user, as handlers see it. */
export interface PortalUser {
  id: string;
  email: string;
  name: string | null;
  isOperator: boolean;
  /** Cookie sessions have one (and need CSRF tokens); OIDC bearer requests do not. */
  sessionId: string | null;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export interface IssuedSession {
  user: User;
  token: string;
  sessionId: string;
  csrfToken: string;
}

/** Sign-up, sign-in, sessions and OIDC identities for the portal. No HTTP in here. */
export class PortalAuth {
  constructor(
    private readonly db: Database,
    readonly tokens: SessionTokens,
    private readonly throttle: LoginThrottle,
    readonly oidc: OidcVerifier | null,
  ) {}

  /** Create a user with a personal org (free plan, owner) and open a session. */
  async signUp(
    input: { email: string; password: string; name?: string | undefined },
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const passwordHash = await hashPassword(input.password);
    const existing = await this.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.email, input.email))
      .limit(1);
    if (existing.length > 0) throw new ConflictError("An account with this email already exists.");
    let user: User;
    try {
      user = await this.createUserWithOrg(
        { email: input.email, name: input.name ?? null, passwordHash, authSubject: null },
        client.requestId,
      );
    } catch (err) {
      // Two sign-ups raced past the check above; the unique index let one win.
      const [winner] = await this.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.email, input.email));
      if (winner) throw new ConflictError("An account with this email already exists.");
      throw err;
    }
    return this.openSession(user, client);
  }

  /** Check the password (throttled per email + IP) and open a session. */
  async signIn(
    input: { email: string; password: string },
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const key = throttleKey(input.email, client.ip);
    // Counted before the password is checked (in one step with the check), so a burst of
    // parallel guesses gets no more tries than guesses sent one at a time.
    const wait = await this.throttle.attempt(key);
    if (wait > 0) throw new LoginThrottledError(wait);
    const [user] = await this.db.select().from(users).where(eq(users.email, input.email)).limit(1);
    // Hash even for unknown emails so response time does not reveal which emails exist.
    const ok = await verifyPassword(
      input.password,
      user?.passwordHash ?? (await dummyPasswordHash()),
    );
    if (!user?.passwordHash || !ok || user.status !== "active") {
      throw new InvalidCredentialsError();
    }
    await this.throttle.reset(key);
    return this.openSession(user, client);
  }

  /** End a session server-side (its JWT stops working even before it expires). */
  async signOut(sessionId: string): Promise<void> {
    await this.db
      .update(portalSessions)
      .set({ revokedAt: new Date() })
      .where(eq(portalSessions.id, sessionId));
  }

  /** The user behind a session cookie, when the JWT verifies and the session row is live. */
  async fromSessionToken(token: string): Promise<PortalUser | null> {
    const claims = await this.tokens.verify(token);
    if (!claims) return null;
    const rows = await this.db
      .select({ user: users })
      .from(portalSessions)
      .innerJoin(users, eq(users.id, portalSessions.userId))
      .where(
        and(
          eq(portalSessions.id, claims.sessionId),
          eq(portalSessions.userId, claims.userId),
          isNull(portalSessions.revokedAt),
          gt(portalSessions.expiresAt, new Date()),
        ),
      )
      .limit(1);
    const user = rows[0]?.user;
    if (user?.status !== "active") return null;
    return toPortalUser(user, claims.sessionId);
  }

  /**
   * The user behind an external IdP's bearer JWT. `sub` maps to `users.auth_subject`; a first
   * sign-in creates the user and a personal org. An existing password account is linked only
   * when the IdP says the email is verified, so nobody claims an account by asserting an email.
   */
  async fromOidcToken(token: string, requestId: string): Promise<PortalUser | null> {
    if (!this.oidc) return null;
    const identity = await this.oidc.verify(token);
    if (!identity) return null;
    const [bySubject] = await this.db
      .select()
      .from(users)
      .where(eq(users.authSubject, identity.subject))
      .limit(1);
    if (bySubject) return bySubject.status === "active" ? toPortalUser(bySubject, null) : null;
    if (identity.email) {
      const [byEmail] = await this.db
        .select()
        .from(users)
        .where(eq(users.email, identity.email))
        .limit(1);
      if (byEmail) {
        if (!identity.emailVerified || byEmail.authSubject) return null;
        const [linked] = await this.db
          .update(users)
          .set({ authSubject: identity.subject, updatedAt: new Date() })
          .where(and(eq(users.id, byEmail.id), isNull(users.authSubject)))
          .returning();
        return linked && linked.status === "active" ? toPortalUser(linked, null) : null;
      }
    }
    // No email claim: a stable placeholder keeps users.email unique and obviously synthetic.
    const email =
      identity.email ?? `${identity.subject.replace(/[^a-zA-Z0-9._-]/g, "_")}@oidc.invalid`;
    try {
      const user = await this.createUserWithOrg(
        { email, name: identity.name, passwordHash: null, authSubject: identity.subject },
        requestId,
      );
      return toPortalUser(user, null);
    } catch (err) {
      // Two first requests raced; the other one created the user.
      const [again] = await this.db
        .select()
        .from(users)
        .where(eq(users.authSubject, identity.subject))
        .limit(1);
      if (again) return toPortalUser(again, null);
      throw err;
    }
  }

  /** Change a password after checking the current one; other sessions of the user end. */
  async changePassword(
    user: PortalUser,
    input: { currentPassword: string; newPassword: string },
    requestId: string,
  ): Promise<void> {
    const [row] = await this.db.select().from(users).where(eq(users.id, user.id)).limit(1);
    if (!row?.passwordHash) {
      throw new RuleViolationError("This account signs in through an identity provider.");
    }
    // Throttled like sign-in (per user: whoever holds the session is the one guessing). A wrong
    // current password is a 400 on the form, not a 401: the session itself is fine.
    const key = `password-change|${user.id}`;
    const wait = await this.throttle.attempt(key);
    if (wait > 0) throw new LoginThrottledError(wait);
    if (!(await verifyPassword(input.currentPassword, row.passwordHash))) {
      throw new RuleViolationError("The current password is wrong.", {
        field: "current_password",
      });
    }
    await this.throttle.reset(key);
    const passwordHash = await hashPassword(input.newPassword);
    await this.db.transaction(async (tx) => {
      await tx
        .update(users)
        .set({ passwordHash, updatedAt: new Date() })
        .where(eq(users.id, user.id));
      const live = and(eq(portalSessions.userId, user.id), isNull(portalSessions.revokedAt));
      const others = await tx.select({ id: portalSessions.id }).from(portalSessions).where(live);
      for (const s of others) {
        if (s.id !== user.sessionId) {
          await tx
            .update(portalSessions)
            .set({ revokedAt: new Date() })
            .where(eq(portalSessions.id, s.id));
        }
      }
      await writeAudit(
        tx,
        { userId: user.id, kind: "user", requestId },
        { orgId: null, action: "user.password_changed", targetType: "user", targetId: user.id },
      );
    });
  }

  /** Set a password for an operator created without one (bootstrap); no-op when one exists. */
  async setInitialPassword(email: string, password: string): Promise<boolean> {
    const passwordHash = await hashPassword(password);
    const rows = await this.db
      .update(users)
      .set({ passwordHash, updatedAt: new Date() })
      .where(and(eq(users.email, email.toLowerCase()), isNull(users.passwordHash)))
      .returning({ id: users.id });
    return rows.length > 0;
  }

  private async openSession(user: User, client: ClientInfo): Promise<IssuedSession> {
    const sessionId = newId("ses");
    await this.db.insert(portalSessions).values({
      id: sessionId,
      userId: user.id,
      expiresAt: new Date(Date.now() + this.tokens.ttlSeconds * 1000),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 300) ?? null,
    });
    const token = await this.tokens.sign({ userId: user.id, sessionId });
    return { user, token, sessionId, csrfToken: this.tokens.csrfToken(sessionId) };
  }

  private async createUserWithOrg(
    input: {
      email: string;
      name: string | null;
      passwordHash: string | null;
      authSubject: string | null;
    },
    requestId: string,
  ): Promise<User> {
    const planIds = await ensurePlans(this.db);
    const freePlanId = planIds.get("free");
    if (!freePlanId) throw new Error("free plan missing");
    const userId = newId("usr");
    const orgId = newId("org");
    const label = input.name ?? input.email.split("@")[0] ?? "My";
    return this.db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({
          id: userId,
          email: input.email,
          name: input.name,
          passwordHash: input.passwordHash,
          authSubject: input.authSubject,
        })
        .returning();
      if (!user) throw new Error("user insert returned nothing");
      await tx.insert(organizations).values({
        id: orgId,
        name: `${label}'s org`.slice(0, 100),
        slug: orgId.toLowerCase().replace("_", "-"),
        planId: freePlanId,
      });
      await tx.insert(memberships).values({ id: newId("mem"), orgId, userId, role: "owner" });
      const ctx = { userId, kind: "user" as const, requestId };
      await writeAudit(tx, ctx, {
        orgId: null,
        action: "user.signed_up",
        targetType: "user",
        targetId: userId,
        details: { via: input.authSubject ? "oidc" : "password" },
      });
      await writeAudit(tx, ctx, {
        orgId,
        action: "org.created",
        targetType: "organization",
        targetId: orgId,
      });
      return user;
    });
  }
}

function toPortalUser(user: User, sessionId: string | null): PortalUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isOperator: user.isOperator,
    sessionId,
  };
}
