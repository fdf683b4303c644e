package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned by Registry.Get and Registry.Touch for an unknown or
// expired session.
var ErrNotFound = errors.New("session not found")

// Session is the server-side half of a login. The browser only ever holds ID,
// encrypted.
type Session struct {
	ID       string
	Operator Operator
	// IDToken is the raw ID token, kept for id_token_hint at logout. It never
	// leaves the server.
	IDToken string
	// Created is the login time (for the absolute timeout); LastSeen the
	// latest authenticated request (for the idle timeout).
	Created, LastSeen time.Time
	// Expires is when the registry may forget the session: the earlier of
	// LastSeen+idle and Created+absolute. Auth checks both limits itself too.
	Expires time.Time
}

// Registry stores sessions by ID. It is an interface so several replicas can
// share one store (Redis, a database); MemoryRegistry serves one process.
// Implementations must be safe for concurrent use and must pass
// authtest.RegistryTests.
type Registry interface {
	// Put stores s under s.ID, replacing any session with that ID.
	Put(ctx context.Context, s Session) error
	// Get returns the session, or ErrNotFound when it is unknown or its
	// Expires has passed.
	Get(ctx context.Context, id string) (Session, error)
	// Touch records activity: it sets LastSeen and Expires of a live session,
	// or returns ErrNotFound.
	Touch(ctx context.Context, id string, lastSeen, expires time.Time) error
	// Delete removes the session; deleting an unknown ID is not an error.
	Delete(ctx context.Context, id string) error
	// Count returns the number of live (unexpired) sessions.
	Count(ctx context.Context) (int, error)
}

// MemoryRegistry is the in-process Registry: fine for a single replica, lost
// on restart (everyone signs in again).
type MemoryRegistry struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]Session
	puts     int
}

var _ Registry = (*MemoryRegistry)(nil)

// NewMemoryRegistry returns an empty registry that judges expiry with now
// (time.Now when nil).
func NewMemoryRegistry(now func() time.Time) *MemoryRegistry {
	if now == nil {
		now = time.Now
	}
	return &MemoryRegistry{now: now, sessions: make(map[string]Session)}
}

// purgeEvery bounds memory: expired sessions are dropped every so many Puts,
// so abandoned sessions cannot pile up.
const purgeEvery = 256

// Put implements Registry.
func (m *MemoryRegistry) Put(ctx context.Context, s Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.Operator.Groups = append([]string(nil), s.Operator.Groups...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	m.puts++
	if m.puts%purgeEvery == 0 {
		now := m.now()
		for id, x := range m.sessions {
			if !now.Before(x.Expires) {
				delete(m.sessions, id)
			}
		}
	}
	return nil
}

// Get implements Registry.
func (m *MemoryRegistry) Get(ctx context.Context, id string) (Session, error) {
	if err := ctx.Err(); err != nil {
		return Session{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return Session{}, ErrNotFound
	}
	if !m.now().Before(s.Expires) {
		delete(m.sessions, id)
		return Session{}, ErrNotFound
	}
	s.Operator.Groups = append([]string(nil), s.Operator.Groups...)
	return s, nil
}

// Touch implements Registry.
func (m *MemoryRegistry) Touch(ctx context.Context, id string, lastSeen, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok || !m.now().Before(s.Expires) {
		delete(m.sessions, id)
		return ErrNotFound
	}
	s.LastSeen, s.Expires = lastSeen, expires
	m.sessions[id] = s
	return nil
}

// Delete implements Registry.
func (m *MemoryRegistry) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

// Count implements Registry.
func (m *MemoryRegistry) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	n := 0
	for _, s := range m.sessions {
		if now.Before(s.Expires) {
			n++
		}
	}
	return n, nil
}
