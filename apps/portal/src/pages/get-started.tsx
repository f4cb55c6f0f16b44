import type { MembershipView } from "@portal/contracts";
import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import type { AccountSession } from "../app.js";
import { Link, useRouter } from "../router.js";
import { Card, ErrorText, useAction } from "../ui.js";
import { AcceptInvitation } from "./profile.js";

/**
 * What a signed-in user who belongs to no organization sees (they left their last one, or were
 * removed): create an organization or join one with an invitation code. Either way the app
 * switches to that org and opens its API keys.
 */
export function GetStartedPage({ session }: { session: AccountSession }) {
  const { navigate } = useRouter();
  const open = () => navigate("/portal/keys");
  return (
    <>
      <h1>No organization yet</h1>
      <p className="muted">
        You are signed in as {session.me.user.email} but are not a member of any organization. API
        keys, usage and billing belong to an organization: create your own, or join one with an
        invitation code from its owner or an admin. Your name and password are on your{" "}
        <Link href="/portal/profile">Profile</Link>.
      </p>
      <CreateOrgCard session={session} onCreated={open} />
      <AcceptInvitation session={session} onJoined={open} />
    </>
  );
}

function CreateOrgCard({
  session,
  onCreated,
}: {
  session: AccountSession;
  onCreated: (created: MembershipView) => void;
}) {
  const [name, setName] = useState("");
  const { busy, error, run } = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const created = await api<MembershipView>("POST", "/portal/api/orgs", { name });
      session.selectOrg(created.org.id);
      await session.refresh();
      onCreated(created);
    });
  };
  return (
    <Card title="Create an organization">
      <p className="muted">You become its owner, on the free plan; you can invite others later.</p>
      <form className="inline-form" onSubmit={submit}>
        <input
          placeholder="Organization name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-label="Organization name"
          required
          maxLength={100}
        />
        <button type="submit" disabled={busy}>
          Create organization
        </button>
      </form>
      <ErrorText error={error} />
    </Card>
  );
}
