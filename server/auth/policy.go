package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Policy decides who may use the console. A user gets in when
//
//	(Subjects, Emails and Domains are all empty, or the subject is listed,
//	 or the verified email is listed, or the verified email's domain is listed)
//	AND (Groups is empty, or the user has at least one listed group)
//
// and at least one list must be non-empty: there is no "anyone with an
// account" mode. Which apps an operator may use is the BFF's rule, keyed by
// its own app IDs; auth only keeps the groups it needs (KeepGroups).
type Policy struct {
	// Subjects are immutable IdP user IDs: the strongest identifier.
	Subjects []string
	// Emails compare case-insensitively and need email_verified=true.
	Emails []string
	// Domains match the whole part after "@" ("corp.example" does not match
	// "evil-corp.example" nor "x.corp.example") and need email_verified=true.
	Domains []string
	// Groups, when set, are required in addition to the identity lists.
	Groups []string
	// KeepGroups are more groups worth keeping in the session besides
	// Groups: those the BFF's per-app rules check. They admit nobody.
	KeepGroups []string
}

// Validate refuses an empty policy and malformed entries, so a typo cannot
// silently open or close the console.
func (p Policy) Validate() error {
	var problems []string
	if len(p.Subjects)+len(p.Emails)+len(p.Domains)+len(p.Groups) == 0 {
		problems = append(problems, "access policy is empty: list allowed subjects, emails, domains or groups")
	}
	for _, s := range p.Subjects {
		if strings.TrimSpace(s) == "" {
			problems = append(problems, "access policy: empty subject")
		}
	}
	for _, e := range p.Emails {
		if i := strings.LastIndex(e, "@"); i <= 0 || i == len(e)-1 || strings.TrimSpace(e) != e {
			problems = append(problems, fmt.Sprintf("access policy: %q is not an email address", e))
		}
	}
	for _, d := range p.Domains {
		if d == "" || strings.ContainsAny(d, "@*/ ") || strings.HasPrefix(d, ".") {
			problems = append(problems, fmt.Sprintf("access policy: %q is not a domain (write corp.example, no @ or wildcard)", d))
		}
	}
	for _, g := range p.Groups {
		if g == "" {
			problems = append(problems, "access policy: empty group name")
		}
	}
	if slices.Contains(p.KeepGroups, "") {
		problems = append(problems, "access policy: empty group name to keep")
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "\n  "))
}

func (p Policy) usesGroups() bool { return len(p.Groups) > 0 || len(p.KeepGroups) > 0 }

// knownGroups are the groups worth keeping in a session.
func (p Policy) knownGroups() []string {
	gs := append(slices.Clone(p.Groups), p.KeepGroups...)
	slices.Sort(gs)
	return slices.Compact(gs)
}

// identity is what the IdP told us about the user, from the ID token and,
// when claims were missing there, from userinfo.
type identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
	HasGroups     bool // the groups claim was present (possibly empty)
}

// Denial reasons, shown to the user and written to the audit log.
const (
	reasonNoIdentityMatch = "not an allowed subject, email or email domain"
	reasonEmailUnverified = "email address not verified by the identity provider"
	reasonNoGroup         = "not a member of an allowed group"
	reasonNoSubject       = "the identity provider sent no subject"
)

// decide returns "" when the policy admits id, otherwise the reason for the
// denial.
func (p Policy) decide(id identity) string {
	if id.Subject == "" {
		return reasonNoSubject
	}
	if len(p.Subjects)+len(p.Emails)+len(p.Domains) > 0 {
		if r := p.identityMatch(id); r != "" {
			return r
		}
	}
	if len(p.Groups) > 0 && !hasAny(id.Groups, p.Groups) {
		return reasonNoGroup
	}
	return ""
}

func (p Policy) identityMatch(id identity) string {
	if slices.Contains(p.Subjects, id.Subject) {
		return ""
	}
	emailListed := false
	if email := strings.ToLower(id.Email); email != "" {
		for _, e := range p.Emails {
			if strings.ToLower(e) == email {
				emailListed = true
			}
		}
		if i := strings.LastIndex(email, "@"); i > 0 {
			domain := email[i+1:]
			for _, d := range p.Domains {
				if strings.ToLower(d) == domain {
					emailListed = true
				}
			}
		}
	}
	switch {
	case emailListed && id.EmailVerified:
		return ""
	case emailListed:
		return reasonEmailUnverified
	default:
		return reasonNoIdentityMatch
	}
}

func hasAny(have, want []string) bool {
	for _, g := range have {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}
