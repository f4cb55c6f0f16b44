import { UpdatePlanBody, UpdateUserBody, UsersQuery } from "@portal/contracts";
import { Hono } from "hono";
import { parseJsonBody, parseQuery } from "../../lib/validate.js";
import { listPlans, updatePlan } from "../../services/admin/plans.js";
import { listUsers, updateUser } from "../../services/admin/users.js";
import { invalidation } from "../../services/portal/invalidation.js";
import type { AppEnv } from "../../types.js";
import { actor, param } from "../portal/shared.js";

/** /admin/api/users and /admin/api/plans: console access, operator role, plan limits. */
export const userRoutes = new Hono<AppEnv>()
  .get("/users", async (c) => {
    const q = parseQuery(c, UsersQuery);
    return c.json({ data: await listUsers(c.get("services").db, q.q || undefined, q.limit) });
  })
  .patch("/users/:userId", async (c) => {
    const input = await parseJsonBody(c, UpdateUserBody);
    return c.json(
      await updateUser(c.get("services").db, actor(c, "operator"), param(c, "userId"), input),
    );
  })
  .get("/plans", async (c) => c.json({ data: await listPlans(c.get("services").db) }))
  .patch("/plans/:planId", async (c) => {
    const input = await parseJsonBody(c, UpdatePlanBody);
    const services = c.get("services");
    const plan = await updatePlan(services.db, actor(c, "operator"), param(c, "planId"), input);
    invalidation.plansChanged(services);
    return c.json(plan);
  });
