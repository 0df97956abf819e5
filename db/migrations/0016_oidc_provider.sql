-- The agreements product's OpenID Connect server is oidc-provider (docs/adr/0011-agreements.md); this
-- table is its Adapter storage, shared by every api process: authorization codes, grants, sessions,
-- interactions and refresh tokens. `id_hash` is the SHA-256 of the model's id (for codes and refresh
-- tokens the id is the token itself, so no usable token is stored); the payload keeps no token value.
CREATE TABLE agr_oidc_payloads (
  model       text NOT NULL,
  id_hash     text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id_hash)
);
CREATE INDEX agr_oidc_payloads_grant ON agr_oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX agr_oidc_payloads_uid ON agr_oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX agr_oidc_payloads_expires ON agr_oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- The hand-written server's tables are replaced by the adapter's.
DROP TABLE agr_auth_codes;
DROP TABLE agr_refresh_tokens;
