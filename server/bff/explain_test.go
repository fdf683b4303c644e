package bff_test

import (
	"strings"
	"testing"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/bff"
	"github.com/timconsole/timconsole/server/tim"
)

// TestExplain: the codes an operator meets most have their own words; an
// unknown code is named.
func TestExplain(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{10062, "No read receipt"},
		{70001, "again after the console signed a new one"},
		{70002, "UserSig"},
		{70003, "UserSig"},
		{70009, "secret key"},
		{70013, "identifier"},
		{70014, "SDKAppID"},
		{60007, "rate limit"},
		{10003, "API"},
		{10004, "parameter"},
		{10007, "permission"},
		{10010, "does not exist"},
		{10015, "group ID"},
		{10026, "disabled"},
		{10059, "edition"},
		{60020, "package"},
		{tim.CodeMissing, "no result"},
		{12345, "12345"},
	}
	for _, tt := range tests {
		if s := bff.Explain(tt.code); !strings.Contains(s, tt.want) {
			t.Errorf("Explain(%d) = %q, want it to contain %q", tt.code, s, tt.want)
		}
	}
}

// TestMembersLimit holds the contract's page bound to the vendor's.
func TestMembersLimit(t *testing.T) {
	if api.MaxMembersLimit != tim.MaxMemberPage {
		t.Errorf("api.MaxMembersLimit = %d, tim.MaxMemberPage = %d: the browser and the vendor disagree", api.MaxMembersLimit, tim.MaxMemberPage)
	}
}
