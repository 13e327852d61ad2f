/**
 * The etcd auth token of one endpoint, shared by its transports (the JSON gateway and
 * gRPC accept the same token): obtained on first use, and forgotten once etcd rejects
 * it, so the next request authenticates again.
 */
import type { Deadline } from './deadline.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Asks etcd for a token, over whichever transport needs one. */
export type Authenticate = (credentials: Credentials, deadline: Deadline) => Promise<string>;

export class AuthToken {
  private token: Promise<string> | undefined;

  /** `rejected` tells an error meaning "this token is no longer valid" (Connection decides that). */
  constructor(
    private readonly credentials: Credentials,
    private readonly rejected: (err: unknown) => boolean,
  ) {}

  /** The current token, authenticating by `deadline` when there is none. */
  get(deadline: Deadline, authenticate: Authenticate): Promise<string> {
    const token = (this.token ??= authenticate(this.credentials, deadline));
    token.catch(() => this.forget(token));
    return token;
  }

  /** Runs `request` with the token; a token etcd rejects is forgotten, for the caller's retry to replace. */
  async with<T>(deadline: Deadline, authenticate: Authenticate, request: (token: string) => Promise<T>): Promise<T> {
    const token = this.get(deadline, authenticate);
    try {
      return await request(await token);
    } catch (err) {
      if (this.rejected(err)) this.forget(token);
      throw err;
    }
  }

  /** Drops `token` (default: whatever is held), unless another request already replaced it. */
  forget(token = this.token): void {
    if (this.token === token) this.token = undefined;
  }
}
