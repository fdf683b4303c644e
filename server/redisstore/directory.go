package redisstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/timconsole/timconsole/server/directory"
)

// Directory is the shared store of one app's group directory: a build
// lease (SET NX PX), and the last complete index as gzipped JSON with its
// build time, so one replica builds and the others load it.
type Directory struct {
	rdb                   *redis.Client
	lease, index, builtAt string
}

var _ directory.Shared = (*Directory)(nil)

// Directory returns the shared directory store of app sdkAppID.
func (s *Store) Directory(sdkAppID uint64) *Directory {
	base := s.cfg.KeyPrefix + "dir:" + strconv.FormatUint(sdkAppID, 10) + ":"
	return &Directory{rdb: s.rdb, lease: base + "lease", index: base + "index", builtAt: base + "built"}
}

// Acquire takes the build lease for ttl. The lease holds a random token, so
// release never drops another replica's lease that replaced an expired one.
func (d *Directory) Acquire(ctx context.Context, ttl time.Duration) (func(), bool, error) {
	token := rand.Text()
	ok, err := d.rdb.SetNX(ctx, d.lease, token, ttl).Result()
	if err != nil {
		return nil, false, unavailable(ctx, "directory lease", err)
	}
	if !ok {
		return nil, false, nil
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = releaseLease.Run(ctx, d.rdb, []string{d.lease}, token).Err()
	}
	return release, true, nil
}

// releaseLease deletes the lease only while it is still ours.
var releaseLease = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Publish stores a complete index and its build time, atomically.
func (d *Directory) Publish(ctx context.Context, groups []directory.Group, built time.Time) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(groups); err != nil {
		return fmt.Errorf("directory publish: %v", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("directory publish: %v", err)
	}
	_, err := d.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, d.index, buf.Bytes(), 0)
		p.Set(ctx, d.builtAt, strconv.FormatInt(built.UnixNano(), 10), 0)
		return nil
	})
	if err != nil {
		return unavailable(ctx, "directory publish", err)
	}
	return nil
}

// Latest returns the published index when it was built after since.
func (d *Directory) Latest(ctx context.Context, since time.Time) ([]directory.Group, time.Time, error) {
	v, err := d.rdb.Get(ctx, d.builtAt).Result()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, unavailable(ctx, "directory latest", err)
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("directory latest: build time %q: %v", v, err)
	}
	built := time.Unix(0, ns)
	if !built.After(since) {
		return nil, time.Time{}, nil
	}
	data, err := d.rdb.Get(ctx, d.index).Bytes()
	if err != nil {
		return nil, time.Time{}, unavailable(ctx, "directory latest", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("directory latest: %v", err)
	}
	var groups []directory.Group
	if err := json.NewDecoder(zr).Decode(&groups); err != nil {
		return nil, time.Time{}, fmt.Errorf("directory latest: %v", err)
	}
	return groups, built, nil
}
