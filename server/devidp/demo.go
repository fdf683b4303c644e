package devidp

import (
	"crypto/rand"
	"strings"
)

// Demo users' groups. A console in demo mode allows DemoAllowedGroups, so
// alice and bob get in and mallory is refused.
const (
	GroupOpsAdmins   = "ops-admins"
	GroupOpsReadonly = "ops-readonly"
	GroupSales       = "sales"
)

// DemoAllowedGroups are the groups a demo console's access policy should list.
var DemoAllowedGroups = []string{GroupOpsAdmins, GroupOpsReadonly}

// DemoClientID is the demo fixture's client ID.
const DemoClientID = "timconsole"

// DemoFixture returns the demo users (alice and bob allowed, mallory denied)
// and a client for a console at redirectBase (e.g. "http://127.0.0.1:8080"),
// with random passwords and client secret generated at every call. The map
// holds username -> password, for the demo banner to print.
func DemoFixture(redirectBase string) ([]User, Client, map[string]string) {
	base := strings.TrimSuffix(redirectBase, "/")
	users := []User{
		{ID: "u-alice", Username: "alice", Email: "alice@ops.example", EmailVerified: true, Name: "Alice Admin", Groups: []string{GroupOpsAdmins}},
		{ID: "u-bob", Username: "bob", Email: "bob@ops.example", EmailVerified: true, Name: "Bob Reader", Groups: []string{GroupOpsReadonly}},
		{ID: "u-mallory", Username: "mallory", Email: "mallory@sales.example", EmailVerified: true, Name: "Mallory Sales", Groups: []string{GroupSales}},
	}
	passwords := make(map[string]string, len(users))
	for i := range users {
		users[i].Password = demoPassword()
		passwords[users[i].Username] = users[i].Password
	}
	client := Client{
		ID:                     DemoClientID,
		Secret:                 rand.Text(),
		RedirectURIs:           []string{base + "/auth/callback"},
		PostLogoutRedirectURIs: []string{base + "/signed-out", base + "/"},
	}
	return users, client, passwords
}

// demoPassword is short enough to type from the banner and still random.
func demoPassword() string {
	return strings.ToLower(rand.Text()[:12])
}
