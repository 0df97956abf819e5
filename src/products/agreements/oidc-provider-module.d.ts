/**
 * Types for the parts of `oidc-provider` 9 (which ships none) that this folder uses. The configuration
 * object is typed loosely (its shape is the library's documented one, checked by the library at
 * construction); every value handed back to our code is typed here. Vendor types stay in
 * src/products/agreements.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AdapterPayload {
    readonly [key: string]: unknown;
    jti?: string;
    kind?: string;
    grantId?: string;
    uid?: string;
    consumed?: unknown;
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientLike {
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly [metadata: string]: unknown;
  }

  export interface TokenLike {
    readonly kind: string;
    readonly clientId?: string;
    readonly accountId?: string;
  }

  export interface OidcContext {
    readonly oidc: { readonly client?: ClientLike };
  }

  export type Configuration = Readonly<Record<string, unknown>>;

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string; readonly details: Readonly<Record<string, unknown>> };
    readonly params: Readonly<Record<string, unknown>>;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: Readonly<Record<string, unknown>>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    readonly Grant: new (properties: { accountId: string; clientId: string }) => GrantInstance;
    readonly Client: {
      readonly prototype: {
        compareClientSecret(this: ClientLike, actual: string): boolean | Promise<boolean>;
      };
    };
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      constructor(status: number, message: string);
      error: string;
      error_description?: string;
    }
    class InvalidGrant extends OIDCProviderError {
      constructor(detail?: string);
    }
    class InvalidTarget extends OIDCProviderError {
      constructor(detail?: string);
    }
  }
}
