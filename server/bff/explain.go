package bff

import (
	"fmt"

	"github.com/timconsole/timconsole/server/tim"
)

// explanations is the operator-facing text for Tencent codes
// (tencent-chat-api.md §8), short enough for a table cell or a toast. The
// words are the console's, so they live at its edge; tim only classifies.
var explanations = map[int]string{
	0:     "OK.",
	60002: "Tencent could not parse the request URL (client bug).",
	60003: "Tencent could not parse the request body (client bug).",
	60004: "The admin identifier or UserSig was rejected; check the identifier and secret key.",
	60005: "The admin identifier or UserSig was rejected; check the identifier and secret key.",
	60006: "The SDKAppID is invalid; check the app configuration.",
	60007: "Tencent's REST call rate limit was exceeded; retry shortly.",
	60008: "Tencent timed out or rejected the request format; retry.",
	60009: "Tencent does not know this API; check the region and the app's edition.",
	60010: "The configured identifier is not an App admin of this app.",
	60011: "The app's request rate limit was exceeded; retry shortly.",
	60012: "The request lacked the SDKAppID (client bug).",
	60013: "Tencent could not parse its own response; retry.",
	60014: "Tencent's account exchange timed out; retry.",
	60015: "The identifier has the wrong type (client bug).",
	60016: "The SDKAppID is disabled.",
	60017: "The request is disabled for this app.",
	60018: "Too many requests; retry later.",
	60019: "Too many requests; retry later.",
	60020: "The app's Tencent package has expired or is not active yet (activation takes 5 minutes).",
	60021: "This server's IP address is not on the app's REST allow-list.",
	70001: "Tencent rejected the admin UserSig as expired, and again after the console signed a new one: check the app's secret key and this server's clock.",
	70002: "The admin UserSig was empty (client bug).",
	70003: "The admin UserSig could not be parsed; check the secret key configuration.",
	70005: "The admin UserSig check failed; check the secret key.",
	70009: "The admin UserSig signature does not match: the secret key and SDKAppID do not belong together.",
	70013: "The UserSig was signed for a different identifier than the one configured.",
	70014: "The UserSig was signed for a different SDKAppID than the one configured.",
	70016: "Tencent has no key for this app in this region; check the app's region.",
	70020: "Tencent does not know this SDKAppID in this region; check the app's region.",
	70050: "Too many failed UserSig checks: the admin account is locked for a minute.",
	70051: "The admin account is blocklisted.",
	70052: "The admin UserSig was invalidated; a new one is signed automatically.",
	70107: "The user account does not exist.",
	70114: "The request was restricted by Tencent for security reasons.",
	70169: "Tencent timed out internally; retry.",
	70206: "Invalid batch count in the request (client bug).",
	70398: "The app is over its free-trial account limit.",
	70402: "Invalid parameter in the account request.",
	70403: "The request needs App admin permission.",
	70500: "Tencent had an internal error; retry.",
	10002: "Tencent had an internal error; retry.",
	10003: "Tencent does not know this API name (client bug).",
	10004: "Invalid parameter: check the group ID and message seqs.",
	10005: "Too many accounts in the request.",
	10006: "Tencent's group-service rate limit was exceeded; retry shortly.",
	10007: "Insufficient permission; the group type may not support read receipts.",
	10008: "The request signature failed verification.",
	10010: "The group does not exist or has been dismissed.",
	10011: "Tencent could not parse the request body (client bug).",
	10015: "The group ID is invalid.",
	10018: "The answer would exceed 1 MB; query fewer seqs per call.",
	10019: "The user account does not exist.",
	10026: "This API is disabled for the app.",
	10059: "Group read receipts need the Premium/Pro edition of Tencent Cloud Chat.",
	10062: "No read receipt for this message: it does not exist or was sent without a receipt request.",
}

// Explain returns the operator-facing text for a Tencent error code; the UI
// shows it next to per-seq codes and failed queries.
func Explain(code int) string {
	if s, ok := explanations[code]; ok {
		return s
	}
	if code == tim.CodeMissing {
		return "Tencent returned no result for this message."
	}
	return fmt.Sprintf("Tencent Cloud Chat error %d; see Tencent's error code list.", code)
}
