import type { MeResponse } from "@portal/contracts";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api.js";
import { ErrorText, useAction } from "../ui.js";

/** Sign in or create an account with email and password. */
export function SignInPage({ onSignedIn }: { onSignedIn: (me: MeResponse) => void }) {
  const [mode, setMode] = useState<"sign-in" | "sign-up">("sign-in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [idp, setIdp] = useState<string | null>(null);
  const { busy, error, run, setError } = useAction();

  useEffect(() => {
    api<{ oidc: { issuer: string } | null }>("GET", "/portal/api/auth/config")
      .then((c) => setIdp(c.oidc?.issuer ?? null))
      .catch(() => setIdp(null));
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body =
        mode === "sign-up"
          ? { email, password, ...(name.trim() ? { name: name.trim() } : {}) }
          : { email, password };
      onSignedIn(await api<MeResponse>("POST", `/portal/api/auth/${mode}`, body));
    });
  };

  return (
    <main className="auth">
      <h1>Portal</h1>
      <p className="muted">Decentralized AI inference behind one API.</p>
      <form className="card auth-card" onSubmit={submit}>
        <h2>{mode === "sign-in" ? "Sign in" : "Create your account"}</h2>
        {mode === "sign-up" && (
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input
            type="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            autoComplete="email"
          />
        </label>
        <label>
          Password
          <input
            type="password"
            required
            minLength={mode === "sign-up" ? 10 : 1}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
          />
        </label>
        {mode === "sign-up" && <p className="hint">At least 10 characters.</p>}
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {mode === "sign-in" ? "Sign in" : "Create account"}
        </button>
        <p className="switch">
          {mode === "sign-in" ? "New here?" : "Already have an account?"}{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setError(null);
              setMode(mode === "sign-in" ? "sign-up" : "sign-in");
            }}
          >
            {mode === "sign-in" ? "Create an account" : "Sign in"}
          </button>
        </p>
        {idp && (
          <p className="hint">
            This Portal also accepts sign-in tokens from {idp}; apps using it call the API with a
            bearer token.
          </p>
        )}
      </form>
    </main>
  );
}
