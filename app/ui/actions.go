package ui

// Actions are how the page's children report what the operator asked for
// (go-app's NewAction/NewActionWithValue, handled with ctx.Handle). The
// page registers its handlers in OnMount, the drill-down its own; go-app
// runs each handler on the UI goroutine with a context whose source is the
// component that registered it, so async work started there dispatches
// through a source that lives as long as that component, not through the
// button that was pressed (which may have left the DOM by then).
//
// Actions rather than callback fields: an exported func field is never
// equal, so it would re-render the child at every render of the page, and
// a callback would run with the button's context.
const (
	// actionPull is a valid Pull. Value: query.
	actionPull = "/console/pull"
	// actionFormInvalid is a Pull the form's own checks refused.
	actionFormInvalid = "/console/form-invalid"
	// actionRetry is the error box's "Try again".
	actionRetry = "/console/retry"
	// actionRetryFailed is "Retry the N failed seqs" of a partial result.
	actionRetryFailed = "/console/retry-failed"
	// actionOpenSeq opens a seq's members (a row, or a chart column).
	// Value: uint32.
	actionOpenSeq = "/console/open-seq"
	// actionCloseDrill closes the drill-down.
	actionCloseDrill = "/console/close-drill"
	// actionPageSize is the drill-down's "per page". Value: int.
	actionPageSize = "/console/page-size"
	// actionFail is a child's failure the page must handle (a 401).
	// Value: *api.Error.
	actionFail = "/console/fail"

	// actionDrillFetch is the drill-down's own: load a page of members.
	// Value: api.MembersRequest.
	actionDrillFetch = "/drill/fetch"
)
