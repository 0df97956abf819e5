-- Developer portal and operator console: people (merchant and operator users), their sessions, one-time
-- tokens (email verification, password reset) and the mail outbox. Passwords are scrypt hashes; session
-- and token values are stored as SHA-256 only (they are random, 256 bits); TOTP secrets are encrypted
-- with a key derived from the master key.

CREATE TABLE portal_users (
  id                text PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('merchant', 'operator')),
  -- Merchant users belong to one merchant; operators to none.
  merchant_id       text REFERENCES merchants (id),
  email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  password_hash     text NOT NULL,
  role              text NOT NULL CHECK (role IN ('owner', 'developer', 'viewer', 'admin', 'support')),
  email_verified_at timestamptz,
  totp_secret       text,
  totp_enabled_at   timestamptz,
  failed_signins    integer NOT NULL DEFAULT 0 CHECK (failed_signins >= 0),
  locked_until      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  disabled_at       timestamptz,
  CHECK ((kind = 'merchant') = (merchant_id IS NOT NULL)),
  CHECK ((kind = 'merchant' AND role IN ('owner', 'developer', 'viewer'))
      OR (kind = 'operator' AND role IN ('admin', 'support')))
);
CREATE UNIQUE INDEX portal_users_email ON portal_users (kind, lower(email));
CREATE INDEX portal_users_merchant ON portal_users (merchant_id) WHERE merchant_id IS NOT NULL;

CREATE TABLE portal_sessions (
  token_hash   bytea PRIMARY KEY,
  user_id      text NOT NULL REFERENCES portal_users (id),
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);

CREATE TABLE portal_tokens (
  token_hash bytea PRIMARY KEY,
  user_id    text NOT NULL REFERENCES portal_users (id),
  purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX portal_tokens_user ON portal_tokens (user_id, purpose);

CREATE TABLE mail_messages (
  id          text PRIMARY KEY,
  merchant_id text REFERENCES merchants (id),
  to_address  text NOT NULL,
  subject     text NOT NULL,
  body_text   text NOT NULL,
  purpose     text NOT NULL,
  gateway     text NOT NULL CHECK (gateway IN ('sandbox', 'smtp')),
  status      text NOT NULL CHECK (status IN ('kept', 'queued', 'sent', 'failed')),
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX mail_messages_merchant ON mail_messages (merchant_id, id DESC);
CREATE INDEX mail_messages_to ON mail_messages (lower(to_address), id DESC);
