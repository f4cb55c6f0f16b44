import { Link, useRouter } from "../router.js";
import { AuditPage } from "./audit.js";
import { ModelsPage } from "./models.js";
import { OrgsPage } from "./orgs.js";
import { PlansPage } from "./plans.js";
import { PoolsPage } from "./pools.js";
import { RequestsPage } from "./requests.js";
import { UsersPage } from "./users.js";

const NAV = [
  ["/admin/orgs", "Organizations"],
  ["/admin/users", "Users"],
  ["/admin/plans", "Plans"],
  ["/admin/models", "Models"],
  ["/admin/pools", "Pools"],
  ["/admin/requests", "Request lookup"],
  ["/admin/audit", "Audit log"],
] as const;

/** The operator console: every change goes through /admin/api and is audited there. */
export function AdminApp({ selfId }: { selfId: string }) {
  const { path } = useRouter();
  let page = <OrgsPage />;
  if (path.startsWith("/admin/users")) page = <UsersPage selfId={selfId} />;
  else if (path.startsWith("/admin/plans")) page = <PlansPage />;
  else if (path.startsWith("/admin/models")) page = <ModelsPage />;
  else if (path.startsWith("/admin/pools")) page = <PoolsPage />;
  else if (path.startsWith("/admin/requests")) page = <RequestsPage />;
  else if (path.startsWith("/admin/audit")) page = <AuditPage />;
  return (
    <div className="layout">
      <nav className="sidenav" aria-label="Operator">
        {NAV.map(([href, label]) => (
          <Link key={href} href={href}>
            {label}
          </Link>
        ))}
      </nav>
      <main className="content">{page}</main>
    </div>
  );
}
