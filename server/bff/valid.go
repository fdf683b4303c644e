package bff

import (
	"context"
	"net/http"
	"strings"

	"github.com/timconsole/timconsole/server/api"
	"github.com/timconsole/timconsole/server/auth"
	"github.com/timconsole/timconsole/server/tim"
)

// validator is a request that checks itself (Mat Ryer's Valid(ctx)): it
// reports every problem at once as a problemsError, or refuses with an
// *api.Error (a 403 for an app the operator may not use, before anything
// else is looked at). ctx carries what the check needs besides the request:
// the operator and the console's apps (withApps). Valid also keeps what it
// resolved (the app, the parsed seqs) for the handler.
type validator interface {
	Valid(ctx context.Context) error
}

// decodeValid decodes a JSON body into a T and validates it: the one way a
// handler reads its input.
func decodeValid[T any, P interface {
	*T
	validator
}](r *http.Request) (*T, error) {
	v, err := decode[T](r)
	if err != nil {
		return &v, err
	}
	return &v, P(&v).Valid(r.Context())
}

type appsKey struct{}

// withApps puts the console's apps into every request's context, for Valid.
func withApps(apps *appSet, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), appsKey{}, apps)))
	})
}

// lookupApp finds appID for the operator in ctx: nil without error means
// unknown (a field problem for the caller to report with the others); a
// known app the operator may not use is a 403.
func lookupApp(ctx context.Context, appID string) (*App, error) {
	apps, _ := ctx.Value(appsKey{}).(*appSet)
	if apps == nil {
		return nil, nil
	}
	app := apps.byID[appID]
	if app == nil {
		return nil, nil
	}
	op, _ := auth.OperatorFrom(ctx)
	if !app.mayUse(op) {
		return app, errorf(api.ECodeForbidden, "you are not allowed to query app %q", app.ID)
	}
	return app, nil
}

// appAndGroup is what every query checks first: the app (a 403 ends the
// check; an unknown one is a problem) and the group ID.
func (v *validate) appAndGroup(ctx context.Context, appID, groupID string) (*App, error) {
	app, err := lookupApp(ctx, appID)
	if err != nil {
		return app, err
	}
	if app == nil {
		v.addf("app", "unknown app %q", cut(appID, 40))
	}
	v.add(api.CheckGroupID(groupID))
	return app, nil
}

// queryInput is a receipt query: the JSON body of POST /api/receipts, or
// the query string of the CSV link.
type queryInput struct {
	api.ReceiptsRequest
	app  *App     // resolved by Valid; nil when unknown
	seqs []uint32 // parsed by Valid: sorted, distinct, within the app's cap
}

// Valid checks the app, the group and the seqs together, so the operator
// sees every problem at once; nothing here calls Tencent.
func (in *queryInput) Valid(ctx context.Context) error {
	var v validate
	app, err := v.appAndGroup(ctx, in.App, in.GroupID)
	in.app = app
	if err != nil {
		return err
	}
	limit := tim.DefaultMaxSeqs
	if app != nil {
		limit = app.Client.MaxSeqs()
	}
	seqs, problems := in.Seqs.Parse(limit)
	in.seqs = seqs
	v = append(v, problems...)
	return v.err()
}

// membersInput is one page request of the drill-down.
type membersInput struct {
	api.MembersRequest
	app    *App
	filter tim.Filter
}

// maxCursorLen bounds the opaque cursor echoed back to Tencent.
const maxCursorLen = 1024

// Valid checks the app, the group, the filter, the page size and the
// cursor together.
func (in *membersInput) Valid(ctx context.Context) error {
	var v validate
	app, err := v.appAndGroup(ctx, in.App, in.GroupID)
	in.app = app
	if err != nil {
		return err
	}
	switch in.Filter {
	case api.FilterRead:
		in.filter = tim.FilterRead
	case api.FilterUnread:
		in.filter = tim.FilterUnread
	default:
		v.addf("filter", "filter must be %q or %q", api.FilterRead, api.FilterUnread)
	}
	if in.Limit < 0 || in.Limit > api.MaxMembersLimit {
		v.addf("limit", "limit must be between 1 and %d", api.MaxMembersLimit)
	}
	if len(in.Cursor) > maxCursorLen || strings.ContainsAny(in.Cursor, "\r\n") {
		v.addf("cursor", "the cursor is not one this console handed out")
	}
	return v.err()
}
