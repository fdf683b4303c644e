package auth

import "testing"

// Checklist 8: email_verified, case-insensitive emails, whole-domain match.
func TestChecklist08_Policy(t *testing.T) {
	verified := func(email string) identity {
		return identity{Subject: "s-" + email, Email: email, EmailVerified: true}
	}
	unverified := func(email string) identity {
		return identity{Subject: "s-" + email, Email: email}
	}
	byEmail := Policy{Emails: []string{"Ana@Corp.Example"}}
	byDomain := Policy{Domains: []string{"corp.example"}}
	bySubject := Policy{Subjects: []string{"00u-immutable"}}
	byGroup := Policy{Groups: []string{"ops-admins"}}
	domainAndGroup := Policy{Domains: []string{"corp.example"}, Groups: []string{"ops-admins"}}
	tests := []struct {
		name   string
		policy Policy
		id     identity
		want   string
	}{
		{"EmailListedVerified", byEmail, verified("ana@corp.example"), ""},
		{"EmailCaseInsensitive", byEmail, verified("ANA@CORP.EXAMPLE"), ""},
		{"EmailUnverified", byEmail, unverified("ana@corp.example"), reasonEmailUnverified},
		{"EmailNotListed", byEmail, verified("bob@corp.example"), reasonNoIdentityMatch},
		{"DomainVerified", byDomain, verified("bob@corp.example"), ""},
		{"DomainCaseInsensitive", byDomain, verified("bob@CORP.example"), ""},
		{"DomainUnverified", byDomain, unverified("bob@corp.example"), reasonEmailUnverified},
		{"DomainSuffixTrick", byDomain, verified("eve@evil-corp.example"), reasonNoIdentityMatch},
		{"SubdomainIsNotDomain", byDomain, verified("eve@x.corp.example"), reasonNoIdentityMatch},
		{"DomainInLocalPart", byDomain, verified("corp.example@evil.example"), reasonNoIdentityMatch},
		{"NoEmail", byDomain, identity{Subject: "s"}, reasonNoIdentityMatch},
		{"SubjectListed", bySubject, identity{Subject: "00u-immutable"}, ""},
		{"SubjectNotListed", bySubject, verified("ana@corp.example"), reasonNoIdentityMatch},
		{"GroupMember", byGroup, identity{Subject: "s", Groups: []string{"x", "ops-admins"}}, ""},
		{"GroupNotMember", byGroup, identity{Subject: "s", Groups: []string{"sales"}}, reasonNoGroup},
		{"GroupNamesAreExact", byGroup, identity{Subject: "s", Groups: []string{"OPS-ADMINS", "/ops-admins"}}, reasonNoGroup},
		{"GroupOnlyDoesNotNeedEmail", byGroup, identity{Subject: "s", Email: "x@y.example", Groups: []string{"ops-admins"}}, ""},
		{"DomainAndGroupBoth", domainAndGroup, identity{Subject: "s", Email: "a@corp.example", EmailVerified: true, Groups: []string{"ops-admins"}}, ""},
		{"DomainAndGroupMissingGroup", domainAndGroup, verified("a@corp.example"), reasonNoGroup},
		{"DomainAndGroupUnverified", domainAndGroup, identity{Subject: "s", Email: "a@corp.example", Groups: []string{"ops-admins"}}, reasonEmailUnverified},
		{"NoSubject", byGroup, identity{Groups: []string{"ops-admins"}}, reasonNoSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.decide(tt.id); got != tt.want {
				t.Errorf("decide(%+v) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, p := range []Policy{
		{},
		{Emails: []string{"not-an-email"}},
		{Domains: []string{"@corp.example"}},
		{Domains: []string{"*.corp.example"}},
		{Groups: []string{""}},
		{Groups: []string{"ops"}, KeepGroups: []string{""}},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil, want an error", p)
		}
	}
	for _, p := range []Policy{
		{Subjects: []string{"s"}},
		{Emails: []string{"a@b.example"}},
		{Domains: []string{"corp.example"}},
		{Groups: []string{"ops"}, KeepGroups: []string{"ops-admins"}},
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", p, err)
		}
	}
}
