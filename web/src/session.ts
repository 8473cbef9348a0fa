/**
 * The signed-in session: the token from `signIn` kept in sessionStorage (gone when the tab
 * closes), and a typed client that sends it. The API enforces every role; the console only hides.
 */
import { createContext, useContext } from "react";
import { createClient } from "../client/request.ts";

export type Role = "OWNER" | "BUYER" | "REGULATOR" | "ADMIN";

export interface Session {
  token: string;
  email: string;
  roles: Role[];
}

const KEY = "exchange-session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export function clientFor(session: Session | null) {
  return createClient({ baseUrl: "", token: session?.token ?? null });
}

export interface SessionState {
  session: Session | null;
  setSession(session: Session | null): void;
}

export const SessionContext = createContext<SessionState>({ session: null, setSession: () => undefined });

export function useSession(): SessionState {
  return useContext(SessionContext);
}

/** The typed client for the current session. */
export function useClient() {
  return clientFor(useSession().session);
}

export function hasRole(session: Session | null, roles: readonly Role[]): boolean {
  return !!session && (session.roles.includes("ADMIN") || session.roles.some((r) => roles.includes(r)));
}
