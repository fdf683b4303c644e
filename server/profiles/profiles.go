// Package profiles caches accounts' nicknames (Tencent's
// Tag_Profile_IM_Nick), so the timeline and the member lists show names
// without asking portrait_get again for every page. Nicknames are personal
// data: they are kept in memory only, for TTL, and never logged.
package profiles

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/timconsole/timconsole/server/tim"
)

// DefaultTTL is how long a nickname (or its absence) is trusted: people
// rarely rename themselves, and an hour-old name is still the right person.
const DefaultTTL = 10 * time.Minute

// maxEntries bounds the cache; past it the oldest entries go first.
const maxEntries = 100000

// Source fetches nicknames: the app's tim client.
type Source interface {
	Nicknames(ctx context.Context, accounts []string) (map[string]string, error)
}

// Cache is one app's nickname cache. It is safe for concurrent use.
type Cache struct {
	src Source
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	nick    string
	expires time.Time
}

// New returns a cache over src; ttl 0 means DefaultTTL, now nil time.Now.
func New(src Source, ttl time.Duration, now func() time.Time) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{src: src, ttl: ttl, now: now, entries: map[string]entry{}}
}

// Nicknames returns the nicknames of accounts, fetching the ones not cached
// 100 at a time (portrait_get's limit). An account without a nickname, or
// unknown to Tencent, is absent from the map (and remembered as such). On
// a failed fetch it returns what it has and the error: names are a
// convenience, the caller shows the accounts anyway.
func (c *Cache) Nicknames(ctx context.Context, accounts []string) (map[string]string, error) {
	out := make(map[string]string, len(accounts))
	now := c.now()
	var missing []string
	c.mu.Lock()
	for _, a := range accounts {
		if e, ok := c.entries[a]; ok && now.Before(e.expires) {
			if e.nick != "" {
				out[a] = e.nick
			}
			continue
		}
		missing = append(missing, a)
	}
	c.mu.Unlock()
	slices.Sort(missing)
	missing = slices.Compact(missing)
	for chunk := range slices.Chunk(missing, tim.MaxPortraitUsers) {
		got, err := c.src.Nicknames(ctx, chunk)
		if err != nil {
			return out, err
		}
		c.mu.Lock()
		if len(c.entries)+len(chunk) > maxEntries {
			c.evictLocked(now)
		}
		for _, a := range chunk {
			c.entries[a] = entry{nick: got[a], expires: now.Add(c.ttl)}
			if n := got[a]; n != "" {
				out[a] = n
			}
		}
		c.mu.Unlock()
	}
	return out, nil
}

// evictLocked drops the expired entries, and everything if that is not
// enough (a cache that full is a cold cache either way).
func (c *Cache) evictLocked(now time.Time) {
	for a, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, a)
		}
	}
	if len(c.entries) > maxEntries/2 {
		c.entries = map[string]entry{}
	}
}
