/**
 * Credentials for one registry endpoint. An empty username with a password is an identity
 * (refresh) token, exchanged at the token server with OAuth2 grant_type=refresh_token.
 */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Called with the endpoint's host[:port] whenever it asks for authentication. */
export type CredentialsProvider = (host: string) => Credentials | undefined | Promise<Credentials | undefined>;
