package timemu

import (
	"strings"
	"testing"
)

// TestValidGroupID pins the emulator's own group ID rule; server/api has
// the console's, and the BFF tests would show a drift between the two.
func TestValidGroupID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"@TGS#2ALLHANDS", true},
		{"custom-id_01", true},
		{strings.Repeat("a", 48), true},
		{strings.Repeat("a", 49), false},
		{"", false},
		{"with space", false},
		{"tab\tid", false},
		{"群组", false},
		{"del\x7f", false},
	}
	for _, tt := range tests {
		if got := validGroupID(tt.id); got != tt.want {
			t.Errorf("validGroupID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
