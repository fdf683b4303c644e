package auth

import (
	"net/url"
	"strings"
)

// SafeReturnTo returns s if it is a plain relative path on this site, else
// "/". It is the open-redirect guard for return_to: "//evil", "/\evil",
// "/\t/evil" (browsers drop the tab), "https://evil" and "javascript:" all
// become "/".
func SafeReturnTo(s string) string {
	if s == "" || len(s) > 2048 || s[0] != '/' {
		return "/"
	}
	if strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\t\r\n\x00") {
		return "/"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// A percent-encoded slash or backslash could be decoded by a later hop.
	if p := strings.ToLower(u.Path); strings.HasPrefix(p, "//") || strings.HasPrefix(strings.ToLower(s), "/%2f") || strings.HasPrefix(strings.ToLower(s), "/%5c") {
		return "/"
	}
	return s
}
