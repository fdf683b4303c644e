package bff

import (
	"testing"

	"github.com/timconsole/timconsole/server/auth"
)

// TestAppMayUse is the per-app access rule, keyed by the console's app:
// an app with AllowedGroups needs one of them, others are open.
func TestAppMayUse(t *testing.T) {
	restricted := &App{ID: "prod", AllowedGroups: []string{"ops-admins"}}
	open := &App{ID: "staging"}
	admin := auth.Operator{Subject: "a", Groups: []string{"ops-admins"}}
	reader := auth.Operator{Subject: "b", Groups: []string{"ops-readonly"}}
	nobody := auth.Operator{Subject: "c"}
	for _, tt := range []struct {
		app  *App
		op   auth.Operator
		want bool
	}{
		{restricted, admin, true},
		{restricted, reader, false},
		{restricted, nobody, false},
		{open, admin, true},
		{open, reader, true},
		{open, nobody, true},
	} {
		if got := tt.app.mayUse(tt.op); got != tt.want {
			t.Errorf("%s.mayUse(%v) = %v, want %v", tt.app.ID, tt.op.Groups, got, tt.want)
		}
	}
}
