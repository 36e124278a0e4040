package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Names of the unique constraints of migrations/00001_users.sql and
// 00007_lark_binding.sql.
const (
	constraintEmailKey = "users_email_key_unique"
	constraintPhone    = "users_phone_unique"
	constraintLark     = "users_lark_unique"
)

// UserStore keeps accounts in the users and login_history tables.
type UserStore struct {
	db   *DB
	keys Keyring
}

var _ ports.UserStore = (*UserStore)(nil)

// NewUserStore returns a store on db that seals TOTP secrets with keys.
func NewUserStore(db *DB, keys Keyring) *UserStore {
	return &UserStore{db: db, keys: keys}
}

// userColumns is what every read selects, in the order scanUser expects.
const userColumns = `id, email, email_key, name, avatar, phone, password_hash,
	totp_secret, totp_key_id, lark, active, login_count,
	last_login_at, last_login_ip, last_login_user_agent, last_login_method,
	created_at, updated_at, credential_epoch,
	lark_platform, lark_app_id, lark_open_id`

// Create stores u, giving it a time-ordered UUIDv7 id when it has none, and
// sets u.ID, u.CreatedAt and u.UpdatedAt to what was stored. A new account
// has no logins, whatever u.LoginCount and u.LastLogin say.
func (s *UserStore) Create(ctx context.Context, u *domain.User) error {
	id, err := newUserID(u.ID)
	if err != nil {
		return err
	}
	row, err := s.toRow(id, u)
	if err != nil {
		return err
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var created, updated time.Time
	err = s.db.pool.QueryRow(ctx, `
		INSERT INTO users (id, email, email_key, name, avatar, phone, password_hash,
			totp_secret, totp_key_id, lark, active, credential_epoch,
			lark_platform, lark_app_id, lark_open_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		RETURNING created_at, updated_at`,
		id, u.Email, u.EmailKey.String(), u.Name, u.Avatar, row.phone, u.PasswordHash,
		row.totpSecret, row.totpKeyID, row.lark, u.Active, u.CredentialEpoch,
		row.larkPlatform, row.larkAppID, row.larkOpenID,
	).Scan(&created, &updated)
	if err != nil {
		return writeError("create user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = domain.UserID(id), created.UTC(), updated.UTC()
	u.LoginCount, u.LastLogin = 0, nil
	return nil
}

// ByID returns the account with the given id.
func (s *UserStore) ByID(ctx context.Context, id domain.UserID) (*domain.User, error) {
	canonical, err := canonicalID(id)
	if err != nil {
		// No account can have an id that is not a UUID.
		return nil, domain.ErrUserNotFound
	}
	return s.one(ctx, "get user by id", `SELECT `+userColumns+` FROM users WHERE id = $1`, canonical)
}

// ByEmailKey returns the account whose case-folded email is emailKey.
func (s *UserStore) ByEmailKey(ctx context.Context, emailKey domain.EmailKey) (*domain.User, error) {
	return s.one(ctx, "get user by email", `SELECT `+userColumns+` FROM users WHERE email_key = $1`, emailKey.String())
}

// ByPhone returns the account bound to phone (E.164).
func (s *UserStore) ByPhone(ctx context.Context, phone domain.Phone) (*domain.User, error) {
	if phone == "" {
		// An empty phone means "not bound"; it never names an account.
		return nil, domain.ErrUserNotFound
	}
	return s.one(ctx, "get user by phone", `SELECT `+userColumns+` FROM users WHERE phone = $1`, phone.String())
}

// ByLark returns the account bound to the Lark identity key.
func (s *UserStore) ByLark(ctx context.Context, key domain.LarkKey) (*domain.User, error) {
	if !key.Valid() {
		return nil, domain.ErrUserNotFound
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	r, err := scanUser(s.db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users
		WHERE lark_platform = $1 AND lark_app_id = $2 AND lark_open_id = $3`,
		string(key.Platform), key.AppID, key.OpenID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrUserNotFound
	}
	if err != nil {
		return nil, dbError("get user by lark", err)
	}
	return s.decode(r)
}

// Update reads the account under a row lock (SELECT ... FOR UPDATE), lets
// change edit it and writes the editable fields back in the same
// transaction, so concurrent updates of different fields never undo each
// other. The login count and last login are left as stored.
func (s *UserStore) Update(ctx context.Context, userID domain.UserID, change func(u *domain.User) error) (*domain.User, error) {
	id, err := canonicalID(userID)
	if err != nil {
		return nil, domain.ErrUserNotFound
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var u *domain.User
	var changeErr error
	err = pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		r, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if u, err = s.decode(r); err != nil {
			changeErr = err
			return err
		}
		if err := change(u); err != nil {
			changeErr = err
			return err
		}
		s.reseal(id, u)
		row, err := s.toRow(id, u)
		if err != nil {
			changeErr = err
			return err
		}
		return tx.QueryRow(ctx, `
			UPDATE users SET email = $2, email_key = $3, name = $4, avatar = $5, phone = $6,
				password_hash = $7, totp_secret = $8, totp_key_id = $9, lark = $10, active = $11,
				credential_epoch = $12, lark_platform = $13, lark_app_id = $14, lark_open_id = $15,
				updated_at = now()
			WHERE id = $1
			RETURNING updated_at`,
			id, u.Email, u.EmailKey.String(), u.Name, u.Avatar, row.phone, u.PasswordHash,
			row.totpSecret, row.totpKeyID, row.lark, u.Active, u.CredentialEpoch,
			row.larkPlatform, row.larkAppID, row.larkOpenID,
		).Scan(&u.UpdatedAt)
	})
	switch {
	case changeErr != nil:
		return nil, changeErr
	case errors.Is(err, pgx.ErrNoRows):
		return nil, domain.ErrUserNotFound
	case err != nil:
		return nil, writeError("update user", err)
	}
	u.ID = domain.UserID(id)
	u.UpdatedAt = u.UpdatedAt.UTC()
	return u, nil
}

// RecordLogin appends rec to the history and, when it succeeded, makes it
// the account's latest login, in one transaction: the count, the latest
// login and the history never disagree.
func (s *UserStore) RecordLogin(ctx context.Context, userID domain.UserID, rec domain.LoginRecord) error {
	id, err := canonicalID(userID)
	if err != nil {
		return domain.ErrUserNotFound
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	err = pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO login_history (user_id, at, ip, user_agent, method, success, locked)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, rec.Time, rec.IP, rec.UserAgent, string(rec.Method), rec.Success, rec.Locked && !rec.Success)
		if err != nil || !rec.Success {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE users SET login_count = login_count + 1, last_login_at = $2,
				last_login_ip = $3, last_login_user_agent = $4, last_login_method = $5
			WHERE id = $1`,
			id, rec.Time, rec.IP, rec.UserAgent, string(rec.Method))
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeForeignKeyViolation {
		return domain.ErrUserNotFound
	}
	if err != nil {
		return dbError("record login", err)
	}
	return nil
}

// List returns every account, oldest first; ids, which grow with time,
// order accounts created in the same instant.
func (s *UserStore) List(ctx context.Context) ([]domain.User, error) {
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	rows, err := s.db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, dbError("list users", err)
	}
	defer rows.Close()
	var users []domain.User
	for rows.Next() {
		r, err := scanUser(rows)
		if err != nil {
			return nil, dbError("list users", err)
		}
		u, err := s.decode(r)
		if err != nil {
			return nil, err
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list users", err)
	}
	return users, nil
}

// Ping reports whether the database answers.
func (s *UserStore) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// SealTOTP seals secret for the account under the keyring's current key.
func (s *UserStore) SealTOTP(userID domain.UserID, secret string) (*domain.SealedTOTP, error) {
	id, err := canonicalID(userID)
	if err != nil {
		return nil, err
	}
	data, keyID, err := s.keys.seal(id, secret)
	if err != nil {
		return nil, err
	}
	return &domain.SealedTOTP{KeyID: keyID, Data: data}, nil
}

// OpenTOTP opens a secret sealed for the account by this keyring or one
// sharing a key with it.
func (s *UserStore) OpenTOTP(userID domain.UserID, sealed domain.SealedTOTP) (string, error) {
	id, err := canonicalID(userID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", domain.ErrTOTPUnreadable, err)
	}
	secret, err := s.keys.open(sealed.KeyID, id, sealed.Data)
	if err != nil {
		return "", fmt.Errorf("%w: %w", domain.ErrTOTPUnreadable, err)
	}
	return secret, nil
}

// reseal moves a bound secret sealed under an older key to the current one,
// as part of an update of the account, so keys rotate without a rewrite of
// every row. A secret that does not open stays as stored: the update is
// about something else, and `gatehouse keys check` reports such accounts.
func (s *UserStore) reseal(id string, u *domain.User) {
	if u.TOTP == nil || u.TOTP.KeyID == s.keys.current {
		return
	}
	secret, err := s.keys.open(u.TOTP.KeyID, id, u.TOTP.Data)
	if err != nil {
		return
	}
	if data, keyID, err := s.keys.seal(id, secret); err == nil {
		u.TOTP = &domain.SealedTOTP{KeyID: keyID, Data: data}
	}
}

// canonicalID returns a user id in the form the store keeps, which is also
// what sealed secrets are bound to.
func canonicalID(id domain.UserID) (string, error) {
	parsed, err := uuid.Parse(id.String())
	if err != nil {
		return "", fmt.Errorf("postgres: user id %q is not a UUID", id)
	}
	return parsed.String(), nil
}

// one runs a query for at most one account.
func (s *UserStore) one(ctx context.Context, op, query string, arg any) (*domain.User, error) {
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	r, err := scanUser(s.db.pool.QueryRow(ctx, query, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, domain.ErrUserNotFound
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	return s.decode(r)
}

// userScan is one row of userColumns as it comes out of the database,
// before the nullable and sealed columns become domain values.
type userScan struct {
	u                                   domain.User
	id, emailKey                        string
	phone, totpKeyID                    *string
	totpSecret, lark                    []byte
	lastAt                              *time.Time
	lastIP, lastUserAgent, lastMethod   *string
	larkPlatform, larkAppID, larkOpenID *string
}

// scanUser reads one row of userColumns. Its errors come from the driver and
// are for the caller to classify.
func scanUser(row pgx.Row) (*userScan, error) {
	var r userScan
	err := row.Scan(&r.id, &r.u.Email, &r.emailKey, &r.u.Name, &r.u.Avatar, &r.phone, &r.u.PasswordHash,
		&r.totpSecret, &r.totpKeyID, &r.lark, &r.u.Active, &r.u.LoginCount,
		&r.lastAt, &r.lastIP, &r.lastUserAgent, &r.lastMethod,
		&r.u.CreatedAt, &r.u.UpdatedAt, &r.u.CredentialEpoch,
		&r.larkPlatform, &r.larkAppID, &r.larkOpenID)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// decode turns a scanned row into an account. The TOTP secret stays sealed
// (see domain.User.TOTP), so no key problem can stop an account from being
// read. Its errors mean stored data this process cannot read (a Lark
// column that is not JSON): plain errors, never an outage.
func (s *UserStore) decode(r *userScan) (*domain.User, error) {
	u := r.u
	// The columns hold only what the store wrote: a canonical UUID, a key
	// NewEmailKey made (which keys to itself) and a parsed phone.
	u.ID, u.EmailKey = domain.UserID(r.id), domain.NewEmailKey(r.emailKey)
	u.Phone = domain.Phone(deref(r.phone))
	if r.totpSecret != nil && r.totpKeyID != nil {
		u.TOTP = &domain.SealedTOTP{KeyID: *r.totpKeyID, Data: r.totpSecret}
	}
	if r.lark != nil {
		var l larkJSON
		if err := json.Unmarshal(r.lark, &l); err != nil {
			return nil, fmt.Errorf("postgres: Lark profile of user %s: %w", u.ID, err)
		}
		u.Lark = &domain.LarkProfile{
			Platform: domain.LarkPlatform(deref(r.larkPlatform)), AppID: deref(r.larkAppID),
			Name: l.Name, EnName: l.EnName, AvatarURL: l.AvatarURL, OpenID: l.OpenID, UnionID: l.UnionID, TenantKey: l.TenantKey,
		}
		if r.larkOpenID != nil {
			u.Lark.OpenID = *r.larkOpenID // the key column is the binding; the JSON copy is for show
		}
	}
	if r.lastAt != nil {
		u.LastLogin = &domain.LoginRecord{
			Time:      r.lastAt.UTC(),
			IP:        deref(r.lastIP),
			UserAgent: deref(r.lastUserAgent),
			Method:    domain.LoginMethod(deref(r.lastMethod)),
			Success:   true,
		}
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// larkJSON is the stored form of a Lark binding. Its field names are the
// column's format, kept apart from the domain type, which has no tags.
type larkJSON struct {
	Name      string `json:"name"`
	EnName    string `json:"en_name"`
	AvatarURL string `json:"avatar_url"`
	OpenID    string `json:"open_id"`
	UnionID   string `json:"union_id"`
	TenantKey string `json:"tenant_key,omitempty"`
}

// userRow holds the column values of u that need converting to be stored.
type userRow struct {
	phone      *string // NULL when not bound, so unbound accounts never clash
	totpSecret []byte
	totpKeyID  *string
	lark       []byte
	// The Lark binding key: all NULL when unbound, or when the profile has
	// no complete key (which then claims nothing, as in the memory store).
	larkPlatform, larkAppID, larkOpenID *string
}

// toRow converts the fields of u that are not stored as they are.
func (s *UserStore) toRow(id string, u *domain.User) (userRow, error) {
	var r userRow
	if u.Phone != "" {
		phone := u.Phone.String()
		r.phone = &phone
	}
	if u.TOTP != nil {
		if u.TOTP.KeyID == "" || len(u.TOTP.Data) == 0 {
			return userRow{}, fmt.Errorf("postgres: TOTP secret of user %s is not sealed", id)
		}
		keyID := u.TOTP.KeyID
		r.totpSecret, r.totpKeyID = u.TOTP.Data, &keyID
	}
	if u.Lark != nil {
		l := larkJSON{Name: u.Lark.Name, EnName: u.Lark.EnName, AvatarURL: u.Lark.AvatarURL, OpenID: u.Lark.OpenID, UnionID: u.Lark.UnionID, TenantKey: u.Lark.TenantKey}
		b, err := json.Marshal(l)
		if err != nil {
			return userRow{}, fmt.Errorf("postgres: Lark profile: %w", err)
		}
		r.lark = b
		if key := u.Lark.Key(); key.Valid() {
			platform, appID, openID := string(key.Platform), key.AppID, key.OpenID
			r.larkPlatform, r.larkAppID, r.larkOpenID = &platform, &appID, &openID
		}
	}
	return r, nil
}

// newUserID returns id in canonical form, or a fresh UUIDv7 when id is
// empty. Version 7 ids grow with time, so new rows land at the end of the
// primary key index and ids order accounts by age.
func newUserID(id domain.UserID) (string, error) {
	if id == "" {
		v7, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("postgres: new user id: %w", err)
		}
		return v7.String(), nil
	}
	return canonicalID(id)
}

// writeError maps the unique constraints to the domain's conflicts and
// classifies everything else.
func writeError(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation {
		switch pgErr.ConstraintName {
		case constraintEmailKey:
			return domain.ErrEmailTaken
		case constraintPhone:
			return domain.ErrPhoneTaken
		case constraintLark:
			return domain.ErrLarkTaken
		}
	}
	return dbError(op, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
