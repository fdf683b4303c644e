package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/auth"
)

// Registry is the shared auth.Registry. Each session is a hash at
// KeyPrefix+"session:"+hex(SHA-256(ID)) whose TTL is the session's Expires,
// plus a member of the sorted set KeyPrefix+"sessions" scored by Expires, for
// Count.
//
// The ID itself is never stored: it is the bearer secret inside the cookie,
// so a leaked Redis dump or MONITOR trace must not be enough to hijack a
// session. IDs are 256 random bits, so a plain SHA-256 cannot be reversed or
// brute-forced; no key is needed. The record does hold the raw ID token (for
// id_token_hint at logout), as the in-memory registry does; protect Redis
// accordingly (ACL user, TLS, no public network).
//
// Expiry is judged by the injected clock, exactly like auth.MemoryRegistry;
// the Redis TTL, computed from the same clock, is what makes Redis forget
// abandoned sessions.
type Registry struct {
	rdb    *redis.Client
	now    func() time.Time
	prefix string // of session keys
	index  string // sorted set of hashed IDs by Expires (µs)
}

var _ auth.Registry = (*Registry)(nil)

// Hash fields of a session record. Times are RFC 3339 with nanoseconds, so
// they come back exactly as stored; expUS is Expires in Unix microseconds,
// exact in a Lua number, for the Touch script.
const (
	fieldOperator = "op"
	fieldIDToken  = "idt"
	fieldCreated  = "created"
	fieldLastSeen = "seen"
	fieldExpires  = "exp"
	fieldExpUS    = "exp_us"
)

// hashID is the name of a session in Redis.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (r *Registry) key(h string) string { return r.prefix + h }

// ttl is the Redis TTL for a session expiring at exp: at least 1 ms when
// exp is in the future, 0 when the session is already over.
func (r *Registry) ttl(exp time.Time) time.Duration {
	d := exp.Sub(r.now())
	if d <= 0 {
		return 0
	}
	return max(d.Round(time.Millisecond), time.Millisecond)
}

func timeText(t time.Time) string { return t.Format(time.RFC3339Nano) }

func usText(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// Put implements auth.Registry.
func (r *Registry) Put(ctx context.Context, s auth.Session) error {
	rec := s.Operator
	rec.Version = auth.OperatorFormat
	op, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("redis put: encode operator: %v", err)
	}
	h := hashID(s.ID)
	key := r.key(h)
	ttl := r.ttl(s.Expires)
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		if ttl <= 0 {
			p.ZRem(ctx, r.index, h)
			return nil
		}
		p.HSet(ctx, key,
			fieldOperator, op,
			fieldIDToken, s.IDToken,
			fieldCreated, timeText(s.Created),
			fieldLastSeen, timeText(s.LastSeen),
			fieldExpires, timeText(s.Expires),
			fieldExpUS, usText(s.Expires),
		)
		p.PExpire(ctx, key, ttl)
		p.ZAdd(ctx, r.index, redis.Z{Score: float64(s.Expires.UnixMicro()), Member: h})
		// Keep the index bounded even if Count is never called.
		p.ZRemRangeByScore(ctx, r.index, "-inf", usText(r.now()))
		return nil
	})
	if err != nil {
		return unavailable(ctx, "put", err)
	}
	return nil
}

// Get implements auth.Registry.
func (r *Registry) Get(ctx context.Context, id string) (auth.Session, error) {
	m, err := r.rdb.HGetAll(ctx, r.key(hashID(id))).Result()
	if err != nil {
		return auth.Session{}, unavailable(ctx, "get", err)
	}
	if len(m) == 0 {
		return auth.Session{}, auth.ErrNotFound
	}
	s, err := decodeSession(m)
	if err != nil {
		return auth.Session{}, fmt.Errorf("redis get: session record: %v", err)
	}
	if !r.now().Before(s.Expires) {
		return auth.Session{}, auth.ErrNotFound
	}
	s.ID = id
	return s, nil
}

func decodeSession(m map[string]string) (auth.Session, error) {
	var s auth.Session
	var errs []error
	if err := json.Unmarshal([]byte(m[fieldOperator]), &s.Operator); err != nil {
		errs = append(errs, fmt.Errorf("operator: %v", err))
	} else if s.Operator.Version > auth.OperatorFormat {
		errs = append(errs, fmt.Errorf("operator: format %d is newer than this console's %d", s.Operator.Version, auth.OperatorFormat))
	}
	s.Operator.Version = 0 // a storage detail, not part of the operator
	s.IDToken = m[fieldIDToken]
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{fieldCreated, &s.Created}, {fieldLastSeen, &s.LastSeen}, {fieldExpires, &s.Expires}} {
		t, err := time.Parse(time.RFC3339Nano, m[f.name])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", f.name, err))
		}
		*f.t = t
	}
	return s, errors.Join(errs...)
}

// touchScript updates a live session atomically; a session that is missing
// or expired by the caller's clock is removed and reported as 0, so Touch
// can never revive it.
//
// KEYS: session key, index. ARGV: now µs, LastSeen, Expires, Expires µs,
// TTL ms, hashed ID.
var touchScript = redis.NewScript(`
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp_us'))
if not exp or exp <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[6])
  return 0
end
if tonumber(ARGV[5]) <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[6])
  return 1
end
redis.call('HSET', KEYS[1], 'seen', ARGV[2], 'exp', ARGV[3], 'exp_us', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
return 1
`)

// Touch implements auth.Registry: it moves LastSeen and Expires and resets
// the TTL to match.
func (r *Registry) Touch(ctx context.Context, id string, lastSeen, expires time.Time) error {
	h := hashID(id)
	n, err := touchScript.Run(ctx, r.rdb, []string{r.key(h), r.index},
		usText(r.now()), timeText(lastSeen), timeText(expires), usText(expires),
		r.ttl(expires).Milliseconds(), h,
	).Int()
	if err != nil {
		return unavailable(ctx, "touch", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// Delete implements auth.Registry. It is what makes a logout on one replica
// end the session on all of them.
func (r *Registry) Delete(ctx context.Context, id string) error {
	h := hashID(id)
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.key(h))
		p.ZRem(ctx, r.index, h)
		return nil
	})
	if err != nil {
		return unavailable(ctx, "delete", err)
	}
	return nil
}

// Count implements auth.Registry: it prunes expired members from the index
// and counts the rest, O(log n + pruned), however many sessions there are.
// Replicas' clocks may differ; the count is exact to within that skew.
func (r *Registry) Count(ctx context.Context) (int, error) {
	now := usText(r.now())
	var n *redis.IntCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, r.index, "-inf", now)
		n = p.ZCount(ctx, r.index, "("+now, "+inf")
		return nil
	})
	if err != nil {
		return 0, unavailable(ctx, "count", err)
	}
	return int(n.Val()), nil
}
